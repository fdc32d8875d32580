"""Survey items as data: their checks, bindings to form types, the schema and the score."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound
from forms.coerce import coerce_post
from forms.format import parse_document
from forms.models import SurveyBinding, SurveyItem
from forms.survey import (
    bind,
    create_item,
    deactivate_item,
    get_item,
    items_for,
    list_items,
    score,
    survey_schema,
    update_item,
)
from forms.validation import validate_data

CHOICES = [
    {"value": "phone", "zh": "电话", "en": "Phone"},
    {"value": "app", "zh": "微信", "en": "WeChat"},
]


def item(code: str, answer_type: str = "score", **values: object) -> SurveyItem:
    """An unsaved item, for the functions that take items rather than a session."""
    defaults = {"question_zh": code, "question_en": code, "max_score": 5, "weight": 1.0}
    defaults["required"] = False
    defaults["choices"] = CHOICES if answer_type == "choice" else []
    defaults.update(values)
    return SurveyItem(code=code, answer_type=answer_type, **defaults)


@pytest.fixture
def items(db: Session) -> Session:
    create_item(db, "attitude", "服务态度满意吗？", "Were you happy with the service?")
    create_item(db, "on_time", "是否准时上门？", "Did we arrive on time?", "yes_no")
    create_item(db, "channel", "如何联系我们？", "How did you reach us?", "choice", choices=CHOICES)
    create_item(db, "remarks", "其他意见", "Other remarks", "text")
    return db


# --- creating and changing items --------------------------------------------------------------


def test_a_created_item_has_the_defaults(db: Session) -> None:
    created = create_item(db, "attitude", " 服务态度 ")
    assert (created.question_zh, created.max_score, created.weight) == ("服务态度", 5, 1.0)
    assert (created.active, created.required, created.choices) == (True, False, [])


@pytest.mark.parametrize("code", ["", "1abc", "a-b", "a.b", "with space", "x" * 41, "满意"])
def test_a_bad_code_is_refused(db: Session, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_item(db, code, "问题")
    assert set(caught.value.details) == {"code"}


def test_a_taken_code_is_a_conflict(db: Session) -> None:
    create_item(db, "attitude", "问题")
    with pytest.raises(Conflict):
        create_item(db, "attitude", "另一个问题")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"answer_type": "stars"}, "answer_type"),
        ({"question_zh": " "}, "question_zh"),
        ({"weight": 0}, "weight"),
        ({"weight": -1.5}, "weight"),
        ({"weight": float("inf")}, "weight"),
        ({"weight": True}, "weight"),
        ({"max_score": 0}, "max_score"),
        ({"max_score": 2.5}, "max_score"),
        ({"required": "yes"}, "required"),
        ({"choices": CHOICES}, "choices"),
    ],
)
def test_an_invalid_item_is_refused_with_the_field_named(
    db: Session, values: dict, field: str
) -> None:
    arguments = {"question_zh": "问题", **values}
    with pytest.raises(InvalidInput) as caught:
        create_item(db, "q1", **arguments)
    assert field in caught.value.details


@pytest.mark.parametrize(
    "choices",
    [
        None,
        [],
        [CHOICES[0]],
        [CHOICES[0], CHOICES[0]],
        [CHOICES[0], {"value": "", "zh": "空"}],
        [CHOICES[0], {"value": "x"}],
        [CHOICES[0], {"value": "x", "zh": "叉", "colour": "red"}],
        [CHOICES[0], "x"],
    ],
)
def test_a_choice_item_needs_two_or_more_well_formed_distinct_choices(
    db: Session, choices: object
) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_item(db, "q1", "问题", answer_type="choice", choices=choices)
    assert "choices" in caught.value.details


def test_a_choice_without_english_uses_the_chinese(db: Session) -> None:
    created = create_item(
        db, "q1", "问题", answer_type="choice", choices=[CHOICES[0], {"value": "x", "zh": "叉"}]
    )
    assert created.choices[1] == {"value": "x", "zh": "叉", "en": "叉"}


def test_update_changes_the_item_after_the_same_checks(items: Session) -> None:
    update_item(items, "attitude", weight=2, max_score=10, required=True)
    changed = get_item(items, "attitude")
    assert (changed.weight, changed.max_score, changed.required) == (2.0, 10, True)
    with pytest.raises(InvalidInput):
        update_item(items, "attitude", weight=0)


def test_update_refuses_unknown_fields_and_the_code(items: Session) -> None:
    with pytest.raises(InvalidInput):
        update_item(items, "attitude", code="other")


def test_turning_an_item_into_a_choice_needs_choices(items: Session) -> None:
    with pytest.raises(InvalidInput):
        update_item(items, "attitude", answer_type="choice")


def test_an_unknown_item_is_not_found(db: Session) -> None:
    with pytest.raises(NotFound):
        update_item(db, "missing", weight=2)


def test_a_deactivated_item_is_not_listed(items: Session) -> None:
    deactivate_item(items, "remarks")
    assert [i.code for i in list_items(items)] == ["attitude", "channel", "on_time"]
    assert len(list_items(items, include_inactive=True)) == 4


# --- binding items to form types --------------------------------------------------------------


def test_bound_items_come_back_in_the_bound_order(items: Session) -> None:
    bind(items, "repair", ["remarks", "attitude", "on_time"])
    assert [i.code for i in items_for(items, "repair")] == ["remarks", "attitude", "on_time"]


def test_binding_again_replaces_the_items_and_their_order(items: Session) -> None:
    bind(items, "repair", ["attitude", "on_time", "remarks"])
    bind(items, "repair", ["on_time", "attitude"])
    assert [i.code for i in items_for(items, "repair")] == ["on_time", "attitude"]


def test_bindings_of_form_types_are_independent(items: Session) -> None:
    bind(items, "repair", ["attitude"])
    bind(items, "installation", ["on_time", "attitude"])
    assert [i.code for i in items_for(items, "repair")] == ["attitude"]
    assert [i.code for i in items_for(items, "installation")] == ["on_time", "attitude"]


def test_binding_nothing_clears_a_form_type(items: Session) -> None:
    bind(items, "repair", ["attitude"])
    bind(items, "repair", [])
    assert items_for(items, "repair") == []


def test_an_inactive_item_is_excluded_from_a_form_types_items(items: Session) -> None:
    bind(items, "repair", ["attitude", "on_time", "remarks"])
    deactivate_item(items, "on_time")
    assert [i.code for i in items_for(items, "repair")] == ["attitude", "remarks"]
    update_item(items, "on_time", active=True)
    assert [i.code for i in items_for(items, "repair")] == ["attitude", "on_time", "remarks"]


def test_binding_an_unknown_item_is_refused_and_keeps_the_old_binding(items: Session) -> None:
    bind(items, "repair", ["attitude"])
    with pytest.raises(InvalidInput) as caught:
        bind(items, "repair", ["on_time", "nope"])
    assert caught.value.details == {"unknown": ["nope"]}
    assert [i.code for i in items_for(items, "repair")] == ["attitude"]


def test_binding_an_item_twice_is_refused(items: Session) -> None:
    with pytest.raises(InvalidInput):
        bind(items, "repair", ["attitude", "attitude"])


def test_binding_an_inactive_item_is_refused(items: Session) -> None:
    deactivate_item(items, "remarks")
    with pytest.raises(InvalidInput):
        bind(items, "repair", ["remarks"])


@pytest.mark.parametrize("form_type", ["", " ", "x" * 81, None])
def test_a_bad_form_type_is_refused(items: Session, form_type: object) -> None:
    with pytest.raises(InvalidInput):
        bind(items, form_type, ["attitude"])


def test_an_items_bindings_go_with_it(items: Session) -> None:
    bind(items, "repair", ["attitude", "on_time"])
    items.delete(get_item(items, "attitude"))
    items.flush()
    assert [b.position for b in items.query(SurveyBinding)] == [1]


# --- the schema a callback renders ------------------------------------------------------------


def survey_items() -> list[SurveyItem]:
    return [
        item("attitude", required=True),
        item("on_time", "yes_no"),
        item("channel", "choice"),
        item("remarks", "text"),
    ]


def test_survey_schema_types_each_answer_type() -> None:
    properties = survey_schema(survey_items())["schema"]["properties"]
    assert properties["attitude"] | {"title": ""} == {
        "type": "integer",
        "minimum": 0,
        "maximum": 5,
        "title": "",
    }
    assert properties["on_time"]["type"] == "boolean"
    assert properties["channel"]["enum"] == ["phone", "app"]
    assert properties["remarks"]["type"] == "string"


def test_survey_schema_widgets_follow_the_answer_type() -> None:
    fields = survey_schema(survey_items())["ui"]["fields"]
    widgets = {code: field["widget"] for code, field in fields.items()}
    assert widgets == {
        "attitude": "radio",
        "on_time": "radio",
        "channel": "select",
        "remarks": "textarea",
    }
    assert [o["value"] for o in fields["attitude"]["options"]] == [0, 1, 2, 3, 4, 5]
    assert fields["channel"]["options"][1]["label"] == {"zh": "微信", "en": "WeChat"}


def test_survey_schema_keeps_the_item_order_and_requires_required_items() -> None:
    document = survey_schema(survey_items())
    assert document["ui"]["order"] == ["attitude", "on_time", "channel", "remarks"]
    assert document["schema"]["required"] == ["attitude"]


def test_survey_schema_titles_follow_the_locale() -> None:
    asked = [item("q", question_zh="满意吗", question_en="Satisfied?")]
    assert survey_schema(asked, "en")["schema"]["properties"]["q"]["title"] == "Satisfied?"
    assert survey_schema(asked)["schema"]["properties"]["q"]["title"] == "满意吗"


def test_survey_schema_is_a_valid_form() -> None:
    parse_document("survey", {"key": "survey", **survey_schema(survey_items())})


def test_survey_answers_validate_like_any_form() -> None:
    document = survey_schema(survey_items())
    answers = {"attitude": 6, "on_time": True, "channel": "fax"}
    assert validate_data(document, answers, "en") == {
        "attitude": ["Must be at most 5"],
        "channel": ["Choose one of the options"],
    }
    assert validate_data(document, {}) == {"attitude": ["此项为必填"]}


def test_a_posted_survey_coerces_to_typed_answers() -> None:
    document = survey_schema(survey_items())
    posted = {"attitude": ["4"], "on_time": ["false"], "channel": ["app"], "remarks": [""]}
    assert coerce_post(document, posted) == {"attitude": 4, "on_time": False, "channel": "app"}


def test_an_unanswered_yes_no_question_is_not_a_no() -> None:
    assert "on_time" not in coerce_post(survey_schema(survey_items()), {"attitude": ["4"]})


# --- the score --------------------------------------------------------------------------------


def test_full_marks_everywhere_is_100() -> None:
    assert score(survey_items(), {"attitude": 5, "on_time": True}) == 100.0


def test_the_score_is_the_weighted_mean_fraction_of_full_marks() -> None:
    asked = [item("a", weight=3), item("b", max_score=10, weight=1), item("c", "yes_no", weight=2)]
    # (3 * 4/5 + 1 * 5/10 + 2 * 0) / (3 + 1 + 2) * 100 = 2.9 / 6 * 100
    assert score(asked, {"a": 4, "b": 5, "c": False}) == 48.33


def test_yes_is_full_marks_and_no_is_zero() -> None:
    asked = [item("c", "yes_no"), item("d", "yes_no")]
    assert score(asked, {"c": True, "d": False}) == 50.0


def test_unanswered_items_do_not_count() -> None:
    asked = [item("a"), item("b")]
    assert score(asked, {"a": 4}) == 80.0
    assert score(asked, {"a": 4, "b": None}) == 80.0


def test_choice_and_text_items_do_not_count() -> None:
    assert score(survey_items(), {"attitude": 3, "channel": "app", "remarks": "好"}) == 60.0


def test_nothing_scorable_answered_is_none() -> None:
    assert score(survey_items(), {"channel": "app", "remarks": "好"}) is None
    assert score([], {}) is None


def test_answers_of_the_wrong_type_do_not_count() -> None:
    asked = [item("a"), item("c", "yes_no")]
    assert score(asked, {"a": "5", "c": "yes"}) is None
    assert score(asked, {"a": True, "c": 1}) is None


def test_out_of_range_scores_are_clamped() -> None:
    assert score([item("a")], {"a": 9}) == 100.0
    assert score([item("a")], {"a": -2}) == 0.0


def test_the_items_score_uses_the_given_items_only() -> None:
    assert score([item("a")], {"a": 5, "stale": 0}) == 100.0

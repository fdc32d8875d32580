"""Form versions: deploy, save from the UI, read back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound
from engine.identity import Actor
from forms.format import FormFileError
from forms.models import FormDefinition
from forms.store import (
    deploy_form,
    form_document,
    get_form,
    latest_form,
    list_forms,
    save_form,
)

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}


def content(key: str = "review", **overrides: object) -> bytes:
    return json.dumps({"key": key, "schema": SCHEMA, **overrides}).encode()


def test_a_first_deploy_stores_version_1(db: Session) -> None:
    assert deploy_form(db, "r.form.json", content(), "designer") == ("review", 1, True)
    form = latest_form(db, "review")
    assert (form.version, form.created_by, form.source, form.schema) == (
        1,
        "designer",
        "file",
        SCHEMA,
    )
    assert len(form.content_hash) == 64


def test_an_unchanged_redeploy_is_a_no_op(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), "designer")
    assert deploy_form(db, "r.form.json", content(), "designer") == ("review", 1, False)
    assert db.query(FormDefinition).count() == 1


def test_a_reformatted_redeploy_is_a_no_op(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), "designer")
    pretty = json.dumps({"schema": SCHEMA, "key": "review"}, indent=4).encode()
    assert deploy_form(db, "r.form.json", pretty, "designer") == ("review", 1, False)


def test_a_changed_form_becomes_version_2(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), "designer")
    changed = content(title={"zh": "审核", "en": "Review"})
    assert deploy_form(db, "r.form.json", changed, "designer") == ("review", 2, True)
    assert latest_form(db, "review").title_zh == "审核"
    assert get_form(db, "review", 1).title_zh == ""


def test_reverting_to_an_older_content_is_a_new_version(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), None)
    deploy_form(db, "r.form.json", content(title={"zh": "x"}), None)
    assert deploy_form(db, "r.form.json", content(), None) == ("review", 3, True)


def test_a_bad_file_stores_nothing(db: Session) -> None:
    with pytest.raises(FormFileError):
        deploy_form(db, "r.form.json", b"{", "designer")
    assert db.query(FormDefinition).count() == 0


def test_an_actor_object_is_recorded_by_username(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), Actor("alice"), source="api")
    form = latest_form(db, "review")
    assert (form.created_by, form.source) == ("alice", "api")


def test_an_unknown_source_is_refused(db: Session) -> None:
    with pytest.raises(InvalidInput):
        deploy_form(db, "r.form.json", content(), "designer", source="fax")


def test_save_form_stores_a_ui_edit_as_the_next_version(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), "designer")
    document = form_document(latest_form(db, "review"))
    document["title"] = {"zh": "复核", "en": "Check"}
    assert save_form(db, "review", document, "lead") == ("review", 2, True)
    form = latest_form(db, "review")
    assert (form.source, form.created_by, form.title_en) == ("ui", "lead", "Check")


def test_saving_a_stored_version_back_unchanged_is_a_no_op(db: Session) -> None:
    deploy_form(db, "r.form.json", content(title={"zh": "审核"}), "designer")
    document = form_document(latest_form(db, "review"))
    assert save_form(db, "review", document, "lead") == ("review", 1, False)


def test_save_form_takes_the_key_from_the_argument_when_the_document_has_none(db: Session) -> None:
    assert save_form(db, "new.form", {"schema": SCHEMA}, "lead") == ("new.form", 1, True)


def test_save_form_refuses_a_document_of_another_key(db: Session) -> None:
    with pytest.raises(InvalidInput, match="'other'"):
        save_form(db, "review", {"key": "other", "schema": SCHEMA}, "lead")


def test_save_form_applies_the_file_checks(db: Session) -> None:
    ui = {"fields": {"name": {"widget": "number"}}}
    with pytest.raises(FormFileError, match=r"\$\.ui\.fields\.name\.widget"):
        save_form(db, "review", {"schema": SCHEMA, "ui": ui}, "lead")


def test_save_form_refuses_values_json_cannot_hold(db: Session) -> None:
    with pytest.raises(InvalidInput):
        save_form(db, "review", {"schema": {**SCHEMA, "minimum": float("nan")}}, "lead")


def test_latest_form_of_an_unknown_key_is_not_found(db: Session) -> None:
    with pytest.raises(NotFound):
        latest_form(db, "nope")


def test_get_form_of_an_unknown_version_is_not_found(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), None)
    with pytest.raises(NotFound):
        get_form(db, "review", 2)


def test_list_forms_gives_the_latest_version_of_each_key_with_its_count(db: Session) -> None:
    deploy_form(db, "r.form.json", content(), None)
    deploy_form(db, "r.form.json", content(title={"zh": "二"}), None)
    deploy_form(db, "a.form.json", content("alpha"), None)
    listed = [(f.form.key, f.form.version, f.versions) for f in list_forms(db)]
    assert listed == [("alpha", 1, 1), ("review", 2, 2)]


def test_list_forms_of_an_empty_database_is_empty(db: Session) -> None:
    assert list_forms(db) == []


def test_the_stored_schema_keeps_the_property_order(db: Session) -> None:
    schema = {"type": "object", "properties": {n: {"type": "string"} for n in "zyxa"}}
    deploy_form(db, "o.form.json", json.dumps({"key": "o", "schema": schema}).encode(), None)
    db.expire_all()
    assert list(latest_form(db, "o").schema["properties"]) == ["z", "y", "x", "a"]

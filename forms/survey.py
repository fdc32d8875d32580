"""Survey items (调查项目) as data: the questions a callback asks, per form type, and the score.

Items are rows, not code: a team lead adds a question or changes a weight without a
deployment. A callback task renders ``survey_schema(items_for(...))`` with the same renderer
and validator as any form, then stores the answers and ``score(items, answers)``. Items are
deactivated rather than deleted, since stored answers refer to their codes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.errors import Conflict, InvalidInput, NotFound

from .models import SurveyBinding, SurveyItem

ANSWER_TYPES = ("score", "yes_no", "choice", "text")
# no "." or "-": codes are form field names, and those separate paths and table cells
CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
_EDITABLE = (
    "question_zh",
    "question_en",
    "answer_type",
    "choices",
    "max_score",
    "weight",
    "required",
    "active",
)


def get_item(session: Session, code: str) -> SurveyItem:
    item = session.scalar(sa.select(SurveyItem).where(SurveyItem.code == code))
    if item is None:
        raise NotFound(f"survey item {code!r} does not exist")
    return item


def list_items(session: Session, include_inactive: bool = False) -> list[SurveyItem]:
    query = sa.select(SurveyItem).order_by(SurveyItem.code)
    if not include_inactive:
        query = query.where(SurveyItem.active.is_(True))
    return list(session.scalars(query))


def create_item(
    session: Session,
    code: str,
    question_zh: str,
    question_en: str = "",
    answer_type: str = "score",
    *,
    choices: list[dict[str, str]] | None = None,
    max_score: int = 5,
    weight: float = 1.0,
    required: bool = False,
) -> SurveyItem:
    """Add an item; raises InvalidInput (details per field) or Conflict for a taken code."""
    values = {
        "question_zh": question_zh,
        "question_en": question_en,
        "answer_type": answer_type,
        "choices": choices or [],
        "max_score": max_score,
        "weight": weight,
        "required": required,
        "active": True,
    }
    problems = {}
    if not isinstance(code, str) or not CODE_PATTERN.match(code):
        problems["code"] = "a letter, then letters, digits or _ (at most 40)"
    problems.update(_problems(values))
    if problems:
        raise InvalidInput("invalid survey item", problems)
    if session.scalar(sa.select(SurveyItem.id).where(SurveyItem.code == code)) is not None:
        raise Conflict(f"survey item {code!r} already exists")
    item = SurveyItem(code=code, **_normalised(values))
    session.add(item)
    session.flush()
    return item


def update_item(session: Session, code: str, /, **changes: Any) -> SurveyItem:
    """Change an item's question, type, choices, scoring or state (the code stays)."""
    unknown = sorted(set(changes) - set(_EDITABLE))
    if unknown:
        raise InvalidInput("unknown survey item fields", {n: "unknown field" for n in unknown})
    item = get_item(session, code)
    values = {name: getattr(item, name) for name in _EDITABLE}
    values.update(changes)
    problems = _problems(values)
    if problems:
        raise InvalidInput("invalid survey item", problems)
    for name, value in _normalised(values).items():
        setattr(item, name, value)
    session.flush()
    return item


def deactivate_item(session: Session, code: str) -> SurveyItem:
    """Stop asking an item; its bindings stay, so reactivating it restores them."""
    return update_item(session, code, active=False)


def _problems(values: dict[str, Any]) -> dict[str, str]:
    problems = {}
    question = values["question_zh"]
    if not isinstance(question, str) or not question.strip() or len(question) > 500:
        problems["question_zh"] = "required, at most 500 characters"
    if not isinstance(values["question_en"], str) or len(values["question_en"]) > 500:
        problems["question_en"] = "text of at most 500 characters"
    answer_type = values["answer_type"]
    if answer_type not in ANSWER_TYPES:
        problems["answer_type"] = f"one of {', '.join(ANSWER_TYPES)}"
    choices = values["choices"]
    if answer_type == "choice":
        problem = _choice_problem(choices)
        if problem:
            problems["choices"] = problem
    elif choices:
        problems["choices"] = "only choice items have choices"
    max_score = values["max_score"]
    if not _is_int(max_score) or not 1 <= max_score <= 100:
        problems["max_score"] = "a whole number from 1 to 100"
    weight = values["weight"]
    if not _is_number(weight) or not math.isfinite(weight) or weight <= 0:
        problems["weight"] = "a number greater than 0"
    for flag in ("required", "active"):
        if not isinstance(values[flag], bool):
            problems[flag] = "true or false"
    return problems


def _choice_problem(choices: Any) -> str | None:
    if not isinstance(choices, list) or len(choices) < 2:
        return "a choice item needs at least two choices"
    seen = set()
    for index, choice in enumerate(choices):
        if not isinstance(choice, dict) or set(choice) - {"value", "zh", "en"}:
            return f"choice {index}: an object with value, zh and en"
        value, zh, en = choice.get("value"), choice.get("zh"), choice.get("en", "")
        if not isinstance(value, str) or not value.strip() or len(value) > 80:
            return f"choice {index}: value is text of 1 to 80 characters"
        if value in seen:
            return f"choice {index}: value {value!r} repeats"
        if not isinstance(zh, str) or not zh.strip() or not isinstance(en, str):
            return f"choice {index}: zh (required) and en are text"
        seen.add(value)
    return None


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    result = dict(values)
    result["question_zh"] = values["question_zh"].strip()
    result["question_en"] = values["question_en"].strip()
    result["choices"] = [
        {"value": c["value"], "zh": c["zh"], "en": c.get("en") or c["zh"]}
        for c in values["choices"]
    ]
    result["weight"] = float(values["weight"])
    return result


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def bind(session: Session, form_type: str, item_codes: list[str]) -> list[SurveyItem]:
    """Make ``item_codes``, in this order, the items a form type's callback asks."""
    if not isinstance(form_type, str) or not form_type.strip() or len(form_type) > 80:
        raise InvalidInput("a form type is text of 1 to 80 characters", {"form_type": form_type})
    if not isinstance(item_codes, list | tuple) or not all(isinstance(c, str) for c in item_codes):
        raise InvalidInput("item codes are a list of texts")
    repeated = sorted({c for c in item_codes if item_codes.count(c) > 1})
    if repeated:
        raise InvalidInput("survey items repeat", {"repeated": repeated})
    found = {
        item.code: item
        for item in session.scalars(sa.select(SurveyItem).where(SurveyItem.code.in_(item_codes)))
    }
    unknown = [c for c in item_codes if c not in found]
    if unknown:
        raise InvalidInput("unknown survey items", {"unknown": unknown})
    inactive = [c for c in item_codes if not found[c].active]
    if inactive:
        raise InvalidInput("inactive survey items cannot be bound", {"inactive": inactive})
    session.execute(sa.delete(SurveyBinding).where(SurveyBinding.form_type == form_type))
    session.add_all(
        SurveyBinding(form_type=form_type, item_id=found[code].id, position=position)
        for position, code in enumerate(item_codes)
    )
    session.flush()
    return [found[c] for c in item_codes]


def items_for(session: Session, form_type: str) -> list[SurveyItem]:
    """The active items bound to a form type, in their bound order."""
    return list(
        session.scalars(
            sa.select(SurveyItem)
            .join(SurveyBinding, SurveyBinding.item_id == SurveyItem.id)
            .where(SurveyBinding.form_type == form_type, SurveyItem.active.is_(True))
            .order_by(SurveyBinding.position)
        )
    )


def survey_schema(items: Sequence[SurveyItem], locale: str = "zh") -> dict[str, Any]:
    """A form document ``{"schema", "ui"}`` asking the items, for the usual renderer/validator.

    score: an integer 0..max_score (radio); yes_no: a boolean (radio); choice: an enum
    (select); text: a textarea. Required items are required. ``locale`` picks the language
    of the schema's titles; the ui carries both languages.
    """
    english = str(locale).lower().startswith("en")
    properties: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for item in items:
        label = {"zh": item.question_zh, "en": item.question_en or item.question_zh}
        title = label["en"] if english else label["zh"]
        field: dict[str, Any] = {"label": label}
        if item.answer_type == "score":
            prop = {"type": "integer", "minimum": 0, "maximum": item.max_score}
            field["widget"] = "radio"
            field["options"] = [
                {"value": n, "label": {"zh": str(n), "en": str(n)}}
                for n in range(item.max_score + 1)
            ]
        elif item.answer_type == "yes_no":
            prop = {"type": "boolean"}
            field["widget"] = "radio"
        elif item.answer_type == "choice":
            prop = {"type": "string", "enum": [c["value"] for c in item.choices]}
            field["widget"] = "select"
            field["options"] = [
                {"value": c["value"], "label": {"zh": c["zh"], "en": c.get("en") or c["zh"]}}
                for c in item.choices
            ]
        else:
            prop = {"type": "string", "maxLength": 2000}
            field["widget"] = "textarea"
        properties[item.code] = {**prop, "title": title}
        fields[item.code] = field
    schema = {
        "type": "object",
        "properties": properties,
        "required": [item.code for item in items if item.required],
        "additionalProperties": False,
    }
    return {"schema": schema, "ui": {"order": list(properties), "fields": fields}}


def score(items: Sequence[SurveyItem], answers: Mapping[str, Any]) -> float | None:
    """The weighted satisfaction score, 0 to 100, of the answered score and yes/no items.

        score = 100 × Σ wᵢ·fᵢ / Σ wᵢ   over the answered score and yes_no items i

    where wᵢ is the item's weight and fᵢ its fraction of full marks: answer / max_score for a
    score item (clamped to 0..1), 1 for yes and 0 for no. Unanswered items (absent or None)
    and choice and text items do not count, so skipping a question neither helps nor hurts.
    None when no scorable item was answered. Rounded to two decimals.
    """
    total = weights = 0.0
    for item in items:
        answer = answers.get(item.code) if isinstance(answers, Mapping) else None
        if item.answer_type == "score" and _is_number(answer) and math.isfinite(answer):
            fraction = min(max(answer / item.max_score, 0.0), 1.0) if item.max_score else 0.0
        elif item.answer_type == "yes_no" and isinstance(answer, bool):
            fraction = 1.0 if answer else 0.0
        else:
            continue
        total += item.weight * fraction
        weights += item.weight
    if not weights:
        return None
    return round(100 * total / weights, 2)

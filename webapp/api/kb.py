"""The knowledge base: search (best first), one article, and new articles by editors."""

from __future__ import annotations

from flask import jsonify, request

from aftersales import knowledge

from ..extensions import db
from . import bp
from .auth import current_actor
from .common import json_body
from .errors import ApiError

ARTICLE_FIELDS = {"title", "body", "category", "models"}


def _limit() -> int:
    raw = request.args.get("limit") or "10"
    if not raw.isdigit() or not 1 <= int(raw) <= knowledge.LIMIT_MAX:
        raise ApiError(422, "invalid", f"limit is 1..{knowledge.LIMIT_MAX}", {"limit": "invalid"})
    return int(raw)


@bp.get("/kb/articles")
def kb_search():  # noqa: ANN201
    """``?q=TEXT[&model=CODE][&limit=N]``: matching articles, best first; an empty q, none."""
    current_actor()
    text = request.args.get("q") or ""
    model = (request.args.get("model") or "").strip()
    if len(text) > 500 or len(model) > knowledge.MODEL_MAX:
        raise ApiError(422, "invalid", "q has at most 500 characters, model at most 40")
    found = knowledge.search(db.session, text, model=model or None, limit=_limit())
    return jsonify({"items": [knowledge.article_view(a, s, text) for a, s in found]})


@bp.get("/kb/articles/<int:article_id>")
def kb_article(article_id: int):  # noqa: ANN201
    current_actor()
    article = knowledge.get_article(db.session, article_id)
    return jsonify({**knowledge.article_view(article), "body": article.body})


@bp.post("/kb/articles")
def kb_create():  # noqa: ANN201
    """``{"title", "body", "category", "models"?}``: 201 with the article; editors only."""
    actor = current_actor()
    if not knowledge.may_edit(actor):
        raise ApiError(403, "forbidden", "only knowledge editors and administrators add articles")
    data = json_body()
    unknown = sorted(set(data) - ARTICLE_FIELDS)
    if unknown:
        raise ApiError(422, "invalid", "unknown fields", {k: "unknown field" for k in unknown})
    article = knowledge.save_article(
        db.session,
        title=data.get("title"),
        body=data.get("body"),
        category=data.get("category"),
        models=data.get("models") or (),
        actor=actor,
    )
    db.session.commit()
    response = jsonify({**knowledge.article_view(article), "body": article.body})
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/kb/articles/{article.id}"
    return response

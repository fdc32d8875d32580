"""The knowledge base: search (best first), one article, and new articles by editors.

A deactivated article is out of search for everyone and, as in the UI, readable by id only by
knowledge editors and administrators: anyone else gets 404.
"""

from __future__ import annotations

from flask import jsonify

from aftersales.knowledge import service as knowledge

from ..extensions import db
from . import bp
from .auth import current_actor
from .declare import operation
from .errors import ApiError
from .schemas import ID, items_of, nullable, ref, text


@bp.get("/kb/articles")
@operation(
    summary="Knowledge-base search, best first (an empty q finds nothing)",
    answers={200: items_of("KbArticle")},
    query={
        "q": text(500),
        "model": text(knowledge.MODEL_MAX),
        "limit": {"type": "integer", "minimum": 1, "maximum": knowledge.LIMIT_MAX},
    },
)
def kb_search(query: dict):  # noqa: ANN201
    """``?q=TEXT[&model=CODE][&limit=N]``: matching active articles, best first."""
    text_ = query.get("q", "")
    model = query.get("model", "").strip()
    found = knowledge.search(db.session, text_, model=model or None, limit=query.get("limit", 10))
    return jsonify({"items": [knowledge.article_view(a, s, text_) for a, s in found]})


@bp.get("/kb/articles/<id:article_id>")
@operation(
    summary="One knowledge-base article with its body",
    answers={200: ref("KbArticle")},
    path={"id": ID},
)
def kb_article(article_id: int):  # noqa: ANN201
    article = knowledge.readable_article(db.session, current_actor(), article_id)
    return jsonify({**knowledge.article_view(article), "body": article.body})


@bp.post("/kb/articles")
@operation(
    summary="Add a knowledge-base article (knowledge editors and administrators)",
    answers={201: ref("KbArticle")},
    body={
        "type": "object",
        "required": ["title", "body"],
        "additionalProperties": False,
        "properties": {
            "title": text(knowledge.TITLE_MAX, 1),
            "body": text(knowledge.BODY_MAX, 1),
            "category": nullable(
                text(knowledge.CATEGORY_MAX, description="a category name; created on first use")
            ),
            "models": {
                "type": "array",
                "maxItems": knowledge.MODELS_MAX,
                "items": text(knowledge.MODEL_MAX),
                "description": "product model codes; none means every model",
            },
        },
    },
)
def kb_create(body: dict):  # noqa: ANN201
    """``{"title", "body", "category"?, "models"?}``: 201 with the article; editors only."""
    actor = current_actor()
    if not knowledge.may_edit(actor):
        raise ApiError(403, "forbidden", "only knowledge editors and administrators add articles")
    article = knowledge.save_article(
        db.session,
        title=body["title"],
        body=body["body"],
        category=body.get("category"),
        models=body.get("models") or (),
        actor=actor,
    )
    db.session.commit()
    response = jsonify({**knowledge.article_view(article), "body": article.body})
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/kb/articles/{article.id}"
    return response

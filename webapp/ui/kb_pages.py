"""The knowledge base pages: search with excerpts and categories, reading an article, and the
editor for administrators and knowledge editors; a suggestion fragment for request pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from aftersales.knowledge import service as knowledge
from engine.errors import EngineError, NotFound

from ..extensions import db
from . import bp

FIELDS = ("title", "body", "category", "models")
# how much of a fault description the suggestions search: its start names the fault
SUGGEST_CHARS = 500


def _article(article_id: int):  # noqa: ANN202
    try:
        return knowledge.get_article(db.session, article_id)
    except NotFound:
        abort(404)


@bp.get("/kb")
def kb_search():  # noqa: ANN201
    text = (request.args.get("q") or "")[:200]
    model = (request.args.get("model") or "").strip()[: knowledge.MODEL_MAX]
    category_id = request.args.get("category", type=int)
    results = knowledge.search(db.session, text, model=model or None, limit=20) if text else []
    browse = [] if text.strip() else knowledge.articles_in(db.session, category_id, limit=30)
    return render_template(
        "kb/search.html",
        q=text,
        model=model,
        category_id=category_id,
        results=[(a, s, knowledge.excerpt(a, text)) for a, s in results],
        browse=[(a, knowledge.excerpt(a)) for a in browse],
        categories=knowledge.categories(db.session),
        may_edit=knowledge.may_edit(current_user.actor),
    )


@bp.get("/kb/articles/<int:article_id>")
def kb_article(article_id: int):  # noqa: ANN201
    article = _article(article_id)
    if not article.active and not knowledge.may_edit(current_user.actor):
        abort(404)
    return render_template(
        "kb/article.html", article=article, may_edit=knowledge.may_edit(current_user.actor)
    )


@bp.route("/kb/suggest", methods=["GET", "POST"])
def kb_suggest():  # noqa: ANN201
    """Articles for a request being entered, as an HTML fragment.

    The request form posts ``model`` and ``description`` (with the CSRF header htmx sends):
    a fault description of a few hundred Chinese characters is nine bytes a character once
    percent-encoded, so in a query string it outgrows the request line that gunicorn or a
    proxy accepts and the suggestions answered 414. ``GET ?model=&description=`` stays for
    links and short texts. Either way only the description's start is searched
    (``SUGGEST_CHARS``), which bounds the work whatever length is sent.
    """
    values = request.form if request.method == "POST" else request.args
    model = (values.get("model") or values.get("product_model") or "").strip()
    description = (values.get("description") or values.get("fault_description") or "")[
        :SUGGEST_CHARS
    ]
    found = knowledge.suggest(
        db.session, model[: knowledge.MODEL_MAX] or None, description, limit=5
    )
    return render_template(
        "kb/suggestions.html", items=[(a, knowledge.excerpt(a, description)) for a, _s in found]
    )


def _editor_page(article, values: dict, errors: dict, status: int = 200):  # noqa: ANN001, ANN202
    return (
        render_template(
            "kb/edit.html",
            article=article,
            values=values,
            errors=errors,
            labels={
                "title": _("Title"),
                "body": _("Answer"),
                "category": _("Category"),
                "models": _("Product models"),
            },
            categories=[c.name for c, _n in knowledge.categories(db.session)],
        ),
        status,
    )


def _field_errors(details: object) -> dict[str, str]:
    if not isinstance(details, dict):
        return {}
    messages = {
        "title": _("A title has 1 to 200 characters."),
        "body": _("An answer has 1 to 20,000 characters."),
        "category": _("A category name has at most 80 characters."),
        "models": _("At most 50 model codes of at most 40 characters each."),
    }
    return {k: messages[k] for k in details if k in messages}


def _save(article_id: int | None):  # noqa: ANN202
    form = request.form
    values = {k: form.get(k, "") for k in FIELDS}
    try:
        article = knowledge.save_article(
            db.session,
            title=values["title"],
            body=values["body"],
            category=values["category"],
            models=values["models"],
            actor=current_user.actor,
            article_id=article_id,
        )
        if article_id is not None and form.get("active") in ("true", "false"):
            change = knowledge.activate if form["active"] == "true" else knowledge.deactivate
            if article.active != (form["active"] == "true"):
                change(db.session, article.id, actor=current_user.actor)
        db.session.commit()
    except EngineError as exc:
        db.session.rollback()
        article = _article(article_id) if article_id is not None else None
        errors = _field_errors(exc.details)
        if not errors:
            flash(str(exc), "error")
        return _editor_page(article, values, errors, 422)
    flash(_("The article was saved."), "success")
    return redirect(url_for("ui.kb_article", article_id=article.id))


@bp.route("/kb/articles/new", methods=["GET", "POST"])
def kb_new():  # noqa: ANN201
    if request.method == "POST":
        return _save(None)
    return _editor_page(None, {"title": "", "body": "", "category": "", "models": ""}, {})


@bp.route("/kb/articles/<int:article_id>/edit", methods=["GET", "POST"])
def kb_edit(article_id: int):  # noqa: ANN201
    if request.method == "POST":
        return _save(article_id)
    article = _article(article_id)
    values = {
        "title": article.title,
        "body": article.body,
        "category": article.category.name if article.category is not None else "",
        "models": ", ".join(article.models or []),
    }
    return _editor_page(article, values, {})

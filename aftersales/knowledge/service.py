"""The knowledge base: articles agents answer calls from, searched in Chinese.

Search never scans articles. Saving an article segments its title, body, category and product
model codes with jieba (search mode) into words and writes them to the inverted index
``kb_term`` (word, article, weight); a query is segmented the same way and ranked by the summed
weight of its words times their rarity (a TF-IDF-like score), ties by how often the article
solved a call, then by id. Single CJK characters and stop words are not indexed, so "不" or
"怎么办" cannot drown the words that matter.

Weights and rarities are multiples of 1/64, so equal scores are exactly equal on every database
and ties fall through to ``solved_count`` and ``id``.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from aftersales.knowledge.models import KbArticle, KbArticleModel, KbCategory, KbTerm
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.identity import Actor

EDITOR_ROLE = "knowledge_editor"
TITLE_MAX, BODY_MAX, CATEGORY_MAX, MODEL_MAX, MODELS_MAX = 200, 20000, 80, 40, 50
TERM_MAX = 40
QUERY_MAX = 200  # characters of a query that are segmented
QUERY_TERMS_MAX = 16
LIMIT_MAX = 50
EXCERPT = 120

TITLE_WEIGHT = 3.0
BODY_WEIGHT_MAX = 2.0  # a word repeated in the body never outweighs one title hit
CATEGORY_WEIGHT = 1.5
MODEL_WEIGHT = 2.0
MODEL_BOOST = 1.5  # the score of an article written for the model being asked about
QUANTUM = 64
COMMON_SHARE, COMMON_MIN = 0.25, 200  # a word in more articles is common (see _useful)

STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "也",
        "都",
        "就",
        "还",
        "又",
        "把",
        "被",
        "让",
        "给",
        "对",
        "从",
        "向",
        "到",
        "为",
        "以",
        "之",
        "其",
        "而",
        "则",
        "但",
        "并",
        "我",
        "你",
        "您",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "这",
        "那",
        "这个",
        "那个",
        "这些",
        "那些",
        "这样",
        "那样",
        "一个",
        "一些",
        "一下",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "什么",
        "为什么",
        "为何",
        "哪里",
        "哪些",
        "多少",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "嘛",
        "哦",
        "可以",
        "可能",
        "需要",
        "应该",
        "能够",
        "是否",
        "有",
        "没有",
        "没",
        "不",
        "不是",
        "不能",
        "不会",
        "会",
        "能",
        "要",
        "请",
        "请问",
        "谢谢",
        "出现",
        "发生",
        "时候",
        "时",
        "后",
        "前",
        "中",
        "上",
        "下",
        "里",
        "问题",
        "情况",
        "现象",
        "处理",
        "解决",
        "方法",
        "办法",
        "原因",
        "一直",
        "总是",
        "经常",
        "有时",
        "突然",
        "已经",
        "比较",
        "非常",
        "很",
        "太",
        "更",
        "最",
        "再",
        "又",
        "才",
        "只",
        "等",
        "等等",
        "如果",
        "因为",
        "所以",
        "然后",
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "is",
        "are",
        "be",
        "it",
        "this",
        "that",
        "with",
        "how",
        "what",
        "why",
    ]
)
# Fault words jieba does not know as one word; search mode still yields their parts (制冷).
DOMAIN_WORDS = (
    "不制冷",
    "不制热",
    "不加热",
    "不启动",
    "不开机",
    "不排水",
    "不进水",
    "不脱水",
    "不出水",
    "不出风",
    "不通电",
    "不工作",
    "不转",
    "不点火",
    "不显示",
    "制冷差",
    "制热差",
    "漏水",
    "漏电",
    "漏氟",
    "结冰",
    "结霜",
    "异响",
    "异味",
    "噪音大",
    "跳闸",
    "故障码",
    "外机",
    "内机",
    "遥控器",
    "滤网",
    "冷凝器",
    "蒸发器",
    "压缩机",
    "排水泵",
)

# A code starts where a run of letters and digits starts, and each part is taken whole
# (possessive): without both, a 20,000-digit body made ``findall`` try every start and every
# split of the run, quadratic time (over 10 s for one article).
_CODE = re.compile(r"(?<![a-z0-9])[a-z0-9]++(?:[-_./][a-z0-9]++)+")
_MEANINGFUL = re.compile(r"[0-9a-z\u3400-\u9fff\uf900-\ufaff]")
_jieba_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    """jieba's tokenizer, loaded once (its dictionary ships in the wheel: no network)."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                for word in DOMAIN_WORDS:
                    tokenizer.add_word(word, freq=20000)
                _tokenizer = tokenizer
    return _tokenizer


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _keep(word: str) -> bool:
    return 2 <= len(word) <= TERM_MAX and word not in STOP_WORDS and bool(_MEANINGFUL.search(word))


def words(text: str) -> list[str]:
    """The index words of ``text``, repeated as often as they occur (jieba search mode).

    Model codes such as ``KFR-35GW`` are kept whole besides jieba's parts (``kfr``, ``35gw``).
    """
    text = _normalize(text)
    if not text.strip():
        return []
    out = [w for w in (t.strip() for t in _jieba().cut_for_search(text)) if _keep(w)]
    out.extend(code for code in _CODE.findall(text) if len(code) <= TERM_MAX)
    return out


def query_terms(text: str) -> list[str]:
    """The distinct words of a query, in order, at most ``QUERY_TERMS_MAX``."""
    seen: dict[str, None] = {}
    for word in words((text or "")[:QUERY_MAX]):
        seen.setdefault(word, None)
    return list(seen)[:QUERY_TERMS_MAX]


def _quantize(value: float) -> float:
    return max(1, round(value * QUANTUM)) / QUANTUM


def article_terms(
    title: str, body: str, category: str | None, models: Iterable[str]
) -> dict[str, float]:
    """Each index word of an article with its weight."""
    weights: Counter[str] = Counter()
    for word, count in Counter(words(title)).items():
        weights[word] += TITLE_WEIGHT * min(count, 2)
    for word, count in Counter(words(body)).items():
        weights[word] += min(BODY_WEIGHT_MAX, 1.0 + math.log(count))
    for word in set(words(category or "")):
        weights[word] += CATEGORY_WEIGHT
    for code in models:
        for word in {*words(code), _normalize(code)[:TERM_MAX]}:
            if word:
                weights[word] += MODEL_WEIGHT
    return {word: _quantize(weight) for word, weight in weights.items()}


# --- editing ------------------------------------------------------------------------------


def may_edit(actor: Actor) -> bool:
    """Administrators and knowledge editors write articles; everyone signed in reads them."""
    return actor.is_admin or EDITOR_ROLE in actor.roles


def _check_editor(actor: Actor) -> None:
    if not may_edit(actor):
        raise Forbidden("only knowledge editors and administrators edit the knowledge base")


def _clean_models(models: Iterable[str] | str | None) -> tuple[list[str], str | None]:
    if models is None:
        return [], None
    if isinstance(models, str):
        models = re.split(r"[\s,，;；]+", models)
    out: list[str] = []
    for raw in models:
        if not isinstance(raw, str):
            return [], "each model is a code (text)"
        code = unicodedata.normalize("NFKC", raw).strip().upper()
        if not code:
            continue
        if len(code) > MODEL_MAX:
            return [], f"a model code has at most {MODEL_MAX} characters"
        if code not in out:
            out.append(code)
    if len(out) > MODELS_MAX:
        return [], f"an article names at most {MODELS_MAX} models"
    return out, None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def validate(
    title: object, body: object, category: object, models: object
) -> tuple[str, str, str | None, list[str]]:
    """Cleaned values, or InvalidInput naming every bad field."""
    errors: dict[str, str] = {}
    title_text, body_text = _text(title), _text(body)
    category_text = _text(category)
    if not 1 <= len(title_text) <= TITLE_MAX:
        errors["title"] = "required" if not title_text else f"at most {TITLE_MAX} characters"
    if not 1 <= len(body_text) <= BODY_MAX:
        errors["body"] = "required" if not body_text else f"at most {BODY_MAX} characters"
    if category is not None and not isinstance(category, str):
        errors["category"] = "a category is a name (text)"
    elif len(category_text) > CATEGORY_MAX:
        errors["category"] = f"at most {CATEGORY_MAX} characters"
    if models is not None and not isinstance(models, str | list | tuple):
        errors["models"] = "a list of model codes"
        codes: list[str] = []
    else:
        codes, problem = _clean_models(models)  # type: ignore[arg-type]
        if problem:
            errors["models"] = problem
    if errors:
        raise InvalidInput("the article is not valid", errors)
    return title_text, body_text, category_text or None, codes


def category_named(session: Session, name: str) -> KbCategory:
    """The category of that name, created on first use."""
    category = session.scalar(sa.select(KbCategory).where(KbCategory.name == name))
    if category is None:
        category = KbCategory(name=name)
        session.add(category)
        session.flush()
    return category


def save_article(
    session: Session,
    *,
    title: object,
    body: object,
    category: object,
    models: object = (),
    actor: Actor,
    article_id: int | None = None,
) -> KbArticle:
    """Create an article, or update the one with ``article_id``; its index words are rebuilt.

    Title 1..200 and body 1..20,000 characters; a category name is created on first use (an
    empty one leaves the article without a category). Saving an inactive article does not
    bring it back: see ``deactivate``/``activate``.
    """
    _check_editor(actor)
    title_text, body_text, category_name, codes = validate(title, body, category, models)
    if article_id is None:
        article = KbArticle(title=title_text, body=body_text, created_by=actor.username)
        session.add(article)
    else:
        article = get_article(session, article_id)
        article.title, article.body = title_text, body_text
    article.category = category_named(session, category_name) if category_name else None
    article.models = codes
    session.flush()
    _reindex(session, article)
    return article


def _reindex(session: Session, article: KbArticle) -> None:
    session.execute(sa.delete(KbTerm).where(KbTerm.article_id == article.id))
    session.execute(sa.delete(KbArticleModel).where(KbArticleModel.article_id == article.id))
    codes = list(article.models or [])
    if codes:
        session.execute(
            sa.insert(KbArticleModel), [{"article_id": article.id, "model_code": c} for c in codes]
        )
    terms = {}
    if article.active:
        category = article.category.name if article.category is not None else None
        terms = article_terms(article.title, article.body, category, codes)
        if terms:
            session.execute(
                sa.insert(KbTerm),
                [
                    {"term": t, "article_id": article.id, "weight": w, "scoped": int(bool(codes))}
                    for t, w in terms.items()
                ],
            )
    article.terms = " ".join(sorted(terms))
    session.flush()


def deactivate(session: Session, article_id: int, *, actor: Actor) -> KbArticle:
    """Take an article out of search (it stays readable by id, for orders that cite it)."""
    _check_editor(actor)
    article = get_article(session, article_id)
    article.active = False
    _reindex(session, article)
    return article


def activate(session: Session, article_id: int, *, actor: Actor) -> KbArticle:
    _check_editor(actor)
    article = get_article(session, article_id)
    article.active = True
    _reindex(session, article)
    return article


def reindex_all(session: Session) -> int:
    """Rebuild the index words of every article (after a change of the word rules)."""
    count = 0
    for article in session.scalars(sa.select(KbArticle).order_by(KbArticle.id)):
        _reindex(session, article)
        count += 1
    return count


def mark_solved(session: Session, article_id: int) -> None:
    """One more call solved by this article (in SQL, so concurrent calls all count); an
    article taken out of search solves nothing any more, so it is not found."""
    result = session.execute(
        sa.update(KbArticle)
        .where(KbArticle.id == article_id, KbArticle.active.is_(True))
        .values(solved_count=KbArticle.solved_count + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        raise NotFound(f"no knowledge-base article {article_id}")


def get_article(session: Session, article_id: int) -> KbArticle:
    article = session.get(KbArticle, article_id)
    if article is None:
        raise NotFound(f"no knowledge-base article {article_id}")
    return article


def readable_article(session: Session, actor: Actor, article_id: int) -> KbArticle:
    """An article as a reader may open it: a deactivated one only for editors (else 404)."""
    article = get_article(session, article_id)
    if not article.active and not may_edit(actor):
        raise NotFound(f"no knowledge-base article {article_id}")
    return article


def categories(session: Session) -> list[tuple[KbCategory, int]]:
    """Every category with its number of active articles, by name."""
    count = sa.func.count(KbArticle.id)
    rows = session.execute(
        sa.select(KbCategory, count)
        .outerjoin(KbArticle, sa.and_(KbArticle.category_id == KbCategory.id, KbArticle.active))
        .group_by(KbCategory.id)
        .order_by(KbCategory.name)
    )
    return [(c, n) for c, n in rows]


def articles_in(
    session: Session, category_id: int | None = None, limit: int = 50
) -> list[KbArticle]:
    """Active articles, most useful first (of one category when given)."""
    query = sa.select(KbArticle).where(KbArticle.active)
    if category_id is not None:
        query = query.where(KbArticle.category_id == category_id)
    query = query.order_by(KbArticle.solved_count.desc(), KbArticle.id.desc()).limit(limit)
    return list(session.scalars(query))


# --- search -------------------------------------------------------------------------------


def _idf(total: int, df: int) -> float:
    return _quantize(math.log(1.0 + total / max(1, df)))


def _useful(df: dict[str, int], total: int) -> dict[str, int]:
    """The query words worth reading the postings of.

    Search mode yields a long word and its parts (热水器, 热水, 水器); when the long word is in
    the index its parts only repeat it, so they are dropped (the parts still find articles
    that were segmented differently when the long word is not in the index). Words in more
    than a quarter of a large knowledge base say little and cost much; they are dropped while
    a rarer word remains.
    """
    words = [w for w in df if not any(w != other and w in other for other in df)]
    rare = [w for w in words if df[w] <= max(COMMON_MIN, total * COMMON_SHARE)]
    return {w: df[w] for w in (rare or words)}


def _clamp(limit: int) -> int:
    return max(1, min(LIMIT_MAX, int(limit)))


def search(
    session: Session, text: str, *, model: str | None = None, limit: int = 10
) -> list[tuple[KbArticle, float]]:
    """Active articles matching ``text``, best first, with their scores.

    With ``model``, articles written for other models only are left out and those written for
    this model score ``MODEL_BOOST`` times higher; articles for every model stay. An empty
    query, or one of stop words only, finds nothing.
    """
    terms = query_terms(text)
    if not terms:
        return []
    code = _normalize(model or "").strip().upper()[:MODEL_MAX] or None
    df = dict(
        session.execute(
            sa.select(KbTerm.term, sa.func.count())
            .where(KbTerm.term.in_(terms))
            .group_by(KbTerm.term)
        ).all()
    )
    if not df:
        return []
    total = session.scalar(
        sa.select(sa.func.count()).select_from(KbArticle).where(KbArticle.active)
    )
    df = _useful(df, total or 1)
    rarity = sa.case({t: _idf(total or 1, n) for t, n in df.items()}, value=KbTerm.term)
    raw = sa.func.sum(KbTerm.weight * rarity)
    matched = (
        sa.select(KbTerm.article_id.label("aid"))
        .where(KbTerm.term.in_(list(df)))
        .group_by(KbTerm.article_id)
    )
    if code:
        # articles for this model score higher; those for other models only are left out
        # (``scoped`` marks the postings of articles that name models)
        for_model = sa.select(KbArticleModel.article_id).where(KbArticleModel.model_code == code)
        boosted = KbTerm.article_id.in_(for_model)
        raw = raw * sa.case((boosted, MODEL_BOOST), else_=1.0)
        matched = matched.having(sa.or_(sa.func.max(KbTerm.scoped) == 0, boosted))
    scored = matched.add_columns(raw.label("raw")).cte("kb_matched")
    # Only the articles scoring at least the limit-th best score need their solved_count for
    # the tie-break: one primary-key read each, not a join over every match.
    kth = (
        sa.select(scored.c.raw)
        .order_by(scored.c.raw.desc())
        .offset(_clamp(limit) - 1)
        .limit(1)
        .scalar_subquery()
    )
    solved = sa.select(KbArticle.solved_count).where(KbArticle.id == scored.c.aid).scalar_subquery()
    query = (
        sa.select(scored.c.aid, scored.c.raw)
        .where(scored.c.raw >= sa.func.coalesce(kth, 0.0))
        .order_by(scored.c.raw.desc(), solved.desc(), scored.c.aid)
        .limit(_clamp(limit))
    )
    ranked = session.execute(query).all()
    return _load(session, [(aid, float(s)) for aid, s in ranked])


def _load(session: Session, ranked: list[tuple[int, float]]) -> list[tuple[KbArticle, float]]:
    if not ranked:
        return []
    ids = [aid for aid, _score in ranked]
    rows = {
        a.id: a
        for a in session.scalars(
            sa.select(KbArticle).where(KbArticle.id.in_(ids), KbArticle.active)
        )
    }
    return [(rows[aid], score) for aid, score in ranked if aid in rows]


def suggest(
    session: Session, model_code: str | None, description: str | None, limit: int = 5
) -> list[tuple[KbArticle, float]]:
    """Articles for a service request: a search on the fault description boosted by the
    product model; without a description, the model's articles that solved most calls."""
    found = search(session, description or "", model=model_code, limit=limit)
    code = _normalize(model_code or "").strip().upper()[:MODEL_MAX]
    if found or query_terms(description or "") or not code:
        return found
    for_model = sa.select(KbArticleModel.article_id).where(KbArticleModel.model_code == code)
    rows = session.scalars(
        sa.select(KbArticle)
        .where(KbArticle.active, KbArticle.id.in_(for_model))
        .order_by(KbArticle.solved_count.desc(), KbArticle.id)
        .limit(_clamp(limit))
    )
    return [(article, 0.0) for article in rows]


def excerpt(article: KbArticle, text: str | None = None, size: int = EXCERPT) -> str:
    """A piece of the body around the first word of ``text`` found in it, else its start."""
    body = " ".join((article.body or "").split())
    start = 0
    lowered = _normalize(body)
    if len(lowered) == len(body):
        hits = [lowered.find(w) for w in query_terms(text or "")]
        hits = [h for h in hits if h >= 0]
        if hits:
            start = max(0, min(hits) - size // 4)
    piece = body[start : start + size]
    return ("…" if start else "") + piece + ("…" if start + size < len(body) else "")


def article_view(
    article: KbArticle, score: float | None = None, query: str | None = None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "category": article.category.name if article.category is not None else None,
        "excerpt": excerpt(article, query),
        "models": list(article.models or []),
        "solved_count": article.solved_count,
        "active": article.active,
    }
    if score is not None:
        view["score"] = round(score, 4)
    return view


def article_choices(session: Session, text: str, limit: int = 20) -> list[KbArticle]:
    """Active articles for the article picker: by number, by search, else by title."""
    text = (text or "").strip()
    if text.isdigit():
        article = session.get(KbArticle, int(text)) if len(text) < 10 else None
        return [article] if article is not None and article.active else []
    if not text:
        return articles_in(session, limit=limit)
    found = [article for article, _ in search(session, text, limit=limit)]
    if found:
        return found
    query = sa.select(KbArticle).where(
        KbArticle.active, KbArticle.title.icontains(text, autoescape=True)
    )
    return list(session.scalars(query.order_by(KbArticle.id.desc()).limit(limit)))


def unknown_articles(session: Session, actor: Actor | None, ids: list) -> set:
    """Those of ``ids`` that are no article's number. A deactivated article still names one:
    it was picked while it was active, and the order closes without crediting it."""
    wanted = {i for i in ids if isinstance(i, int) and 0 < i < 2**31}
    found = set(session.scalars(sa.select(KbArticle.id).where(KbArticle.id.in_(wanted))))
    return {i for i in ids if i not in found}

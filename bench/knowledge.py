"""Knowledge-base search benchmark: prints ``name: value unit`` lines and asserts nothing.

Run from the repository root (``DATABASE_URL`` naming PostgreSQL adds the ``_pg`` figure)::

    .venv/bin/python -m bench.knowledge                     # 10,000 articles
    .venv/bin/python -m bench.knowledge --articles 1000     # a smoke run
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.knowledge

Each database is a scratch one (a temporary SQLite file; on PostgreSQL a database of its own
next to the one ``DATABASE_URL`` names), built by the real migrations and dropped at the end.

The articles are believable Chinese after-sales answers generated from a small vocabulary of
appliances, faults, causes and remedies (no network, a fixed seed): titles like
"空调不制冷怎么办", bodies of 4 to 8 sentences, a category per appliance and, for two thirds
of them, one to three model codes. Their index words are computed with the same function
``save_article`` uses and bulk-inserted; ANALYZE follows.

The figures
-----------
``kb_articles``
    How many articles were loaded.
``kb_index_articles_per_s``
    Segmentation and index rows per second while loading (jieba plus the bulk insert).
``kb_search_p95_ms`` / ``kb_search_p95_ms_pg``
    ``aftersales.knowledge.search`` (limit 10), each query in a new session, p95 over
    ``--queries`` queries: fault phrases, agents' free-text descriptions and, for a third of
    them, a product model (filter and boost); ``_median_ms`` beside it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``engine`` importable
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from aftersales.knowledge import service as knowledge
from aftersales.knowledge.models import KbArticle, KbArticleModel, KbCategory, KbTerm
from bench.engine import (  # noqa: E402
    HAS_PG,
    emit,
    percentile,
    postgres_database,
    sessions,
    sqlite_database,
)

SEED = 20261123
BATCH = 500

APPLIANCES = {
    "空调": ("KFR", ["26GW", "35GW", "50LW", "72LW", "35GW/BP3"]),
    "冰箱": ("BCD", ["216", "258WDPM", "470WGSE", "521WKPZM"]),
    "洗衣机": ("XQG", ["80-B14", "100-HB14", "90-BD12"]),
    "热水器": ("JSQ", ["20-10E", "24-12D", "30-16HT"]),
    "电热水器": ("EC", ["6001-MC", "8002-PV"]),
    "燃气灶": ("JZT", ["Q230B", "Q510"]),
    "油烟机": ("CXW", ["200-E900", "258-T1"]),
    "电视": ("LED", ["55K7", "65U8", "75E5"]),
    "净水器": ("RO", ["400G", "600G"]),
    "洗碗机": ("WQP", ["8-3906", "12-7712"]),
}
FAULTS = {
    "空调": [
        "不制冷",
        "不制热",
        "漏水",
        "外机不转",
        "噪音大",
        "有异味",
        "显示E1故障码",
        "遥控器失灵",
        "制冷效果差",
        "频繁停机",
        "出风口结霜",
        "跳闸",
    ],
    "冰箱": [
        "不制冷",
        "冷藏室结冰",
        "冷冻室不冷",
        "噪音大",
        "门关不严",
        "有异味",
        "压缩机不启动",
        "显示屏不亮",
        "漏水",
        "结霜严重",
    ],
    "洗衣机": [
        "不排水",
        "不脱水",
        "不进水",
        "噪音大",
        "漏水",
        "门打不开",
        "显示E4故障码",
        "滚筒不转",
        "震动大",
        "甩干有异响",
    ],
    "热水器": ["不点火", "水不热", "忽冷忽热", "漏水", "显示E1故障码", "熄火", "噪音大", "出水小"],
    "电热水器": ["不加热", "漏电", "漏水", "加热慢", "显示E2故障码", "出水不热"],
    "燃气灶": ["不点火", "火焰发黄", "熄火", "打不着火", "漏气", "火力小"],
    "油烟机": ["吸力小", "噪音大", "漏油", "不工作", "灯不亮", "按键失灵"],
    "电视": ["不开机", "黑屏", "有声音没图像", "遥控器失灵", "画面闪烁", "无信号", "自动关机"],
    "净水器": ["不出水", "漏水", "滤芯报警", "出水慢", "废水过多", "有异味"],
    "洗碗机": ["不进水", "不排水", "洗不干净", "漏水", "不加热", "显示E1故障码"],
}
TITLE_ENDINGS = ["怎么办", "的原因", "如何处理", "的解决方法", "", "怎么解决", "是什么原因"]
CAUSES = [
    "电源电压不稳或插座接触不良",
    "滤网长时间未清洗导致脏堵",
    "温控器设置不当",
    "排水管弯折或被异物堵塞",
    "压缩机启动电容老化",
    "门封条老化变形",
    "进水阀滤网被水垢堵塞",
    "主板程序异常",
    "传感器接线松动",
    "安装不水平",
    "燃气压力不足",
    "电池电量不足",
    "冷媒泄漏",
    "风机电机损坏",
    "加热管结垢",
]
STEPS = [
    "请先断电五分钟后重新上电，观察是否恢复正常。",
    "请用户检查遥控器或面板的模式设置是否正确。",
    "清洗滤网并确认进出风口没有遮挡。",
    "检查排水管是否弯折，必要时清理排水泵。",
    "确认水龙头已打开且水压正常。",
    "更换新电池后再试一次。",
    "如仍未解决，请登记报修并派工程师上门检测。",
    "在保修期内的产品免费维修，保修期外按收费标准收取费用。",
    "提醒用户不要自行拆机，以免发生危险。",
    "告知用户工程师会在二十四小时内联系上门。",
    "检查燃气阀门是否完全打开。",
    "检查机器是否放置平稳，调整地脚。",
]
DESCRIPTIONS = [
    "用户反映{a}{f}，已经两天了",
    "{a}用了三年，最近{f}",
    "客户来电说家里的{a}{f}，很着急",
    "{a}{f}，重启也没用",
    "{f}",
    "{a}{f}",
    "新买的{a}刚安装就{f}",
]


def generate(count: int, rng: random.Random) -> tuple[list[str], list[dict]]:
    categories = list(APPLIANCES)
    articles = []
    for number in range(1, count + 1):
        appliance = rng.choice(categories)
        fault = rng.choice(FAULTS[appliance])
        prefix, suffixes = APPLIANCES[appliance]
        title = f"{appliance}{fault}{rng.choice(TITLE_ENDINGS)}"
        if rng.random() < 0.3:
            title = f"{prefix}-{rng.choice(suffixes)} {title}"
        causes = rng.sample(CAUSES, rng.randint(1, 3))
        body = f"{appliance}{fault}，常见原因有：{'；'.join(causes)}。" + "".join(
            rng.sample(STEPS, rng.randint(3, 7))
        )
        models = []
        if rng.random() < 0.67:
            models = sorted(
                {
                    f"{prefix}-{s}"
                    for s in rng.sample(suffixes, rng.randint(1, min(3, len(suffixes))))
                }
            )
        articles.append(
            {
                "id": number,
                "title": title[:200],
                "body": body,
                "category": appliance,
                "models": models,
                "solved_count": rng.randint(0, 50),
            }
        )
    return categories, articles


def load(factory: sessionmaker[Session], count: int) -> float:
    """Bulk-load ``count`` generated articles with their index words; seconds spent."""
    rng = random.Random(SEED)
    names, articles = generate(count, rng)
    started = time.perf_counter()
    with factory() as session:
        category_ids = {}
        for name in names:
            category = KbCategory(name=name)
            session.add(category)
            session.flush()
            category_ids[name] = category.id
        for start in range(0, len(articles), BATCH):
            batch = articles[start : start + BATCH]
            article_rows, term_rows, model_rows = [], [], []
            for a in batch:
                terms = knowledge.article_terms(a["title"], a["body"], a["category"], a["models"])
                article_rows.append(
                    {
                        "id": a["id"],
                        "title": a["title"],
                        "body": a["body"],
                        "category_id": category_ids[a["category"]],
                        "models": a["models"],
                        "terms": " ".join(sorted(terms)),
                        "solved_count": a["solved_count"],
                        "active": True,
                        "created_by": "bench",
                    }
                )
                term_rows += [
                    {
                        "term": t,
                        "article_id": a["id"],
                        "weight": w,
                        "scoped": int(bool(a["models"])),
                    }
                    for t, w in terms.items()
                ]
                model_rows += [{"article_id": a["id"], "model_code": m} for m in a["models"]]
            session.execute(sa.insert(KbArticle), article_rows)
            session.execute(sa.insert(KbTerm), term_rows)
            if model_rows:
                session.execute(sa.insert(KbArticleModel), model_rows)
        session.commit()
        if session.bind.dialect.name == "postgresql":
            top = count + 1
            session.execute(sa.text(f"SELECT setval('kb_article_id_seq', {top}, false)"))
            session.commit()
    elapsed = time.perf_counter() - started
    engine = factory.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE kb_term"))
            conn.execute(sa.text("VACUUM ANALYZE kb_article"))
            conn.execute(sa.text("VACUUM ANALYZE kb_article_model"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    return elapsed


def queries(count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    out = []
    for _ in range(count):
        appliance = rng.choice(list(APPLIANCES))
        fault = rng.choice(FAULTS[appliance])
        text = rng.choice(DESCRIPTIONS).format(a=appliance, f=fault)
        model = None
        if rng.random() < 0.33:
            prefix, suffixes = APPLIANCES[appliance]
            model = f"{prefix}-{rng.choice(suffixes)}"
        out.append((text, model))
    return out


def measure(factory: sessionmaker[Session], count: int) -> tuple[float, float]:
    rng = random.Random(SEED + 1)
    workload = queries(count, rng)
    for text, model in workload[:20]:  # warm up jieba, the pool and the plans
        with factory() as session:
            knowledge.search(session, text, model=model)
    times = []
    for text, model in workload:
        started = time.perf_counter()
        with factory() as session:
            knowledge.search(session, text, model=model, limit=10)
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 95), percentile(times, 50)


def run(url: str, args: argparse.Namespace, suffix: str) -> None:
    with sessions(url) as factory:
        elapsed = load(factory, args.articles)
        if not suffix:
            emit("kb_articles", args.articles, "articles")
            emit("kb_index_articles_per_s", args.articles / elapsed, "articles/s")
        p95, median = measure(factory, args.queries)
        emit(f"kb_search_p95_ms{suffix}", p95, "ms")
        emit(f"kb_search_median_ms{suffix}", median, "ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    with sqlite_database() as url:
        run(url, args, "")
    if HAS_PG:
        with postgres_database() as url:
            run(url, args, "_pg")
    else:
        print(
            "note: DATABASE_URL names no PostgreSQL; skipping kb_search_p95_ms_pg", file=sys.stderr
        )


if __name__ == "__main__":
    main()

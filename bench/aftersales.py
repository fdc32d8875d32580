"""After-sales benchmark: prints ``name: value unit`` lines and asserts nothing.

Run from the repository root (``DATABASE_URL`` naming PostgreSQL runs the world there and
adds ``_pg`` to the names)::

    .venv/bin/python -m bench.aftersales                       # 1,000,000 customers
    .venv/bin/python -m bench.aftersales --quick               # small sizes, a smoke run
    .venv/bin/python -m bench.aftersales --customers 200000 --only lookup,dispatch
    .venv/bin/python -m bench.aftersales --customers 10000 --only order_page --profile 100
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.aftersales

Every database is a scratch one (a temporary SQLite file, or on PostgreSQL a database of its
own next to the one ``DATABASE_URL`` names), built by the real migrations and dropped at the
end. Targets (from the issue): lookup and knowledge-base search under 10 ms at p95; the
order page of a closed repair under 30 ms at p95.

The world
---------
``--customers`` N customers (default 1,000,000), each with a mobile phone (one in ten also a
landline) and an address in one of 14 districts of 5 cities; 3N installed products of 20
models in 5 categories (serial ``SN`` + 10 digits, the first three owned by customer 1, and so
on); N/5 service orders, 97% closed, spread over 12 outlets under 4 centers, each with its
(completed, stateless) process instance at the order's outlet. The rows are
bulk-loaded with ``INSERT ... SELECT`` over ``generate_series`` (PostgreSQL) or a recursive
CTE (SQLite), then ``VACUUM ANALYZE`` / ``ANALYZE``. Outlets, people, survey items, settings
and the product's files (``repair.bpmn``, the process and decisions it calls, the forms and
``repair.service.json``, as tests/environment.py ``REPAIR_FILES``) are made and deployed
through the application's own functions.

The figures (``_pg`` on PostgreSQL)
-----------------------------------
``lookup_p95_ms``
    ``aftersales.customers.lookup(session, actor, phone=...)`` for a random existing mobile
    number as an HQ agent, each in a new session, p95 over ``--queries`` (customer, phones,
    addresses, three products with model and category, recent orders in scope).
    ``lookup_serial_p95_ms`` is the same by a product's serial (a scanned barcode).
    ``lookup_outlet_*`` are an outlet manager's (its hotline finds callers by exact phone,
    their orders joined to their instances within the outlet's path), ``lookup_center_*`` a
    center's (only customers with an order in its scope: the EXISTS subquery).
``dispatch_decision_p95_ms``
    ``aftersales.dispatch.choose_outlet`` for random regions (1 in 20 served by no outlet)
    and categories, each in a new session.
``kb_search_p95_ms`` / ``kb_search_p95_ms_pg``
    ``bench.knowledge``'s generator and loader at ``--articles`` (10,000), on a database of
    its own, SQLite and (when ``DATABASE_URL`` names it) PostgreSQL.
``journeys_per_min``
    Complete repair journeys through the real JSON API: ``gunicorn -w 2`` serving
    ``webapp:create_app()`` on the bench database, driven by 2 client threads with urllib
    (agent, outlet manager, engineer and center tokens from ``engine.identity.issue_token``).
    A journey is POST /api/v1/orders, then phone_support (not solved), accept,
    assign_engineer, check_in, work_report, review and callback, each found with GET
    /api/v1/tasks?business_key= and done with POST /api/v1/tasks/<id>/complete; the outlet the
    dispatcher chose is the one among those serving the customer's district whose manager
    sees the accept task in GET /api/v1/tasks (1 to 3 tries). About 16 requests. Journeys
    finished within ``--journey-seconds`` count; server, clients and database share the
    machine's cores. ``journey_p50_s`` is one journey's wall time. A request the server
    rolled back on a lost race (409 "changed by someone else meanwhile") is sent again, as a
    client should, up to 5 times; ``journey_requests_retried`` counts those (on SQLite two
    writers collide often: a command's read snapshot goes stale before its first write).
``order_page_p95_ms``
    ``GET /orders/<number>`` through ``app.test_client()`` (production config, CSRF on)
    signed in on the login page as an HQ agent, for ``--case-orders`` (5) closed repairs
    with their whole history, each driven through the engine's commands by the people whose
    step it is: the agent opens it (with its start form's data) and phone support fails,
    dispatch places it, the outlet manager accepts and assigns an engineer with an
    appointment, the engineer checks in and reports (two parts, a signature PNG), the center
    reviews, the agent's callback survey closes it. 30 warm-up requests (each page checked
    for its case record and work report), then ``--page-samples`` (300) round robin; p95,
    median and max of wall time. ``order_page_cpu_*`` is this process's CPU time for the same
    requests: what the page costs whatever else loads the machine (on PostgreSQL without the
    server's share; ``order_page_server_cpu_mean_ms_pg`` is the CPU the app's PostgreSQL
    backends used per page, read from /proc when the server is local).
    ``order_page_load_avg_1m_*`` is the load right around the timed pages. ``--profile N``
    profiles N more pages with cProfile and prints the statistics on stderr.
``phase_*_s``
    Wall time of the bench's phases (``phase_load_*`` is the bulk load of each table).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``engine`` importable
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

import aftersales  # noqa: E402
from aftersales.customers.service import lookup
from aftersales.dispatch.service import choose_outlet
from aftersales.orders.models import ServiceOrder, ServiceType
from aftersales.orders.service import create_order  # noqa: E402
from aftersales.outlets.models import OutletProfile
from aftersales.products.models import ProductCategory, ProductModel
from bench import knowledge as kb_bench  # noqa: E402
from bench.engine import (  # noqa: E402
    HAS_PG,
    emit,
    percentile,
    phase,
    postgres_database,
    sessions,
    sqlite_database,
)
from engine.commands import Complete, Deploy, execute  # noqa: E402
from engine.db import engine_options  # noqa: E402
from engine.identity import SYSTEM_ACTOR, Actor, actor_for, issue_token, upsert_user  # noqa: E402
from engine.models import HumanTask, OrgUnit, ProcessDefinition  # noqa: E402
from engine.org import upsert_unit  # noqa: E402
from forms import binding as forms_binding  # noqa: E402
from forms import survey  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261124

CITIES = {
    ("上海市", "上海市"): ["浦东新区", "徐汇区", "闵行区", "静安区"],
    ("北京市", "北京市"): ["朝阳区", "海淀区", "丰台区"],
    ("广东省", "广州市"): ["天河区", "越秀区"],
    ("广东省", "深圳市"): ["南山区", "福田区"],
    ("浙江省", "杭州市"): ["西湖区", "滨江区", "余杭区"],
}
DISTRICTS = [(p, c, d) for (p, c), ds in CITIES.items() for d in ds]  # 14
REGIONS = [f"{p}/{c}/{d}" for p, c, d in DISTRICTS]
UNSERVED = ["四川省/成都市/武侯区", "湖北省/武汉市/洪山区"]
CATEGORIES = [  # code, zh, en, warranty months, model codes
    ("AC", "空调", "Air conditioner", 72, ["KFR-26GW", "KFR-35GW", "KFR-50LW", "KFR-72LW"]),
    ("FRIDGE", "冰箱", "Refrigerator", 36, ["BCD-216", "BCD-258", "BCD-470", "BCD-521"]),
    ("WASHER", "洗衣机", "Washing machine", 24, ["XQG-80", "XQG-90", "XQG-100", "XQB-70"]),
    ("HEATER", "热水器", "Water heater", 36, ["JSQ-20", "JSQ-24", "EC-6001", "EC-8002"]),
    ("TV", "电视", "Television", 12, ["LED-55K7", "LED-65U8", "LED-75E5", "LED-43A1"]),
]
ALL_CATEGORIES = [c[0] for c in CATEGORIES]
CENTERS = {  # center code: (name, the cities its outlets serve)
    "C_SH": ("华东中心", [("上海市", "上海市"), ("浙江省", "杭州市")]),
    "C_BJ": ("华北中心", [("北京市", "北京市")]),
    "C_GD": ("华南中心", [("广东省", "广州市"), ("广东省", "深圳市")]),
}
# 12 outlets: (code, center, districts (or a whole "province/city"), categories)
OUTLETS = [
    ("O_PD", "C_SH", ["上海市/上海市/浦东新区"], ALL_CATEGORIES),
    ("O_PD2", "C_SH", ["上海市/上海市/浦东新区", "上海市/上海市/闵行区"], ["AC", "HEATER"]),
    ("O_XH", "C_SH", ["上海市/上海市/徐汇区", "上海市/上海市/静安区"], ALL_CATEGORIES),
    ("O_SH", "C_SH", ["上海市/上海市"], ALL_CATEGORIES),
    ("O_HZ", "C_SH", ["浙江省/杭州市"], ALL_CATEGORIES),
    ("O_BJ1", "C_BJ", ["北京市/北京市/朝阳区"], ALL_CATEGORIES),
    ("O_BJ2", "C_BJ", ["北京市/北京市/海淀区", "北京市/北京市/丰台区"], ALL_CATEGORIES),
    ("O_BJ3", "C_BJ", ["北京市/北京市"], ["AC", "TV"]),
    ("O_GZ", "C_GD", ["广东省/广州市"], ALL_CATEGORIES),
    ("O_TH", "C_GD", ["广东省/广州市/天河区"], ["AC", "FRIDGE", "WASHER"]),
    ("O_SZ", "C_GD", ["广东省/深圳市"], ALL_CATEGORIES),
    ("O_NS", "C_GD", ["广东省/深圳市/南山区"], ALL_CATEGORIES),
]
REPORT = {
    "check_in_at": "2026-11-20T10:30",
    "fault_class": "refrigeration",
    "solution": "补充冷媒",
    "visit_fee": 50,
    "customer_signature": "data:image/png;base64,iVBORw0KGgo=",
}
# whose lookups are timed: the figure's infix and the user (an HQ agent has none)
LOOKUP_ACTORS = {"": "agent1", "_outlet": "boss_O_PD", "_center": "center_C_SH"}
GROUPS = {
    "lookup": ["lookup_p95_ms", "lookup_serial_p95_ms"],
    "dispatch": ["dispatch_decision_p95_ms"],
    "kb": ["kb_search_p95_ms"],
    "journeys": ["journeys_per_min"],
    "order_page": ["order_page_p95_ms"],
}
SURNAMES = ["赵", "钱", "孙", "李", "周", "吴", "郑", "王", "冯", "陈"]
# the agent who opens the page signs in on the login page with this password
BENCH_PASSWORD = "bench-only-password-1234"  # noqa: S105 - a scratch database's user


# --------------------------------------------------------------------------- bulk load


def _seq(postgres: bool, count: int) -> tuple[str, str]:
    """(a WITH prefix, a FROM source) yielding ``i`` = 1..count."""
    if postgres:
        return "", f"generate_series(1, {int(count)}) AS s(i)"
    return (
        f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {count}) ",
        "seq",
    )


def _pad(postgres: bool, expr: str, width: int) -> str:
    if postgres:
        return f"lpad(({expr})::text, {width}, '0')"
    return f"printf('%0{width}d', {expr})"


def _plus_days(postgres: bool, day: str, expr: str) -> str:
    if postgres:
        return f"(DATE '{day}' + ({expr})::int)"
    return f"date('{day}', '+' || ({expr}) || ' days')"


def _case(expr: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(values))
    return f"CASE ({expr}) % {len(values)} {whens} END"


def _insert(session: Session, postgres: bool, count: int, table: str, columns: str, select: str):
    with_, source = _seq(postgres, count)
    session.execute(
        sa.text(f"{with_}INSERT INTO {table} ({columns}) SELECT {select} FROM {source}")
    )
    session.commit()


def load_world(factory: sessionmaker[Session], customers: int) -> dict[str, Any]:
    """Outlets, people and catalogue through the app; the bulk rows with SQL."""
    forms_binding.install()  # form files deploy (and survey scores) as in the web app
    aftersales.install()
    world: dict[str, Any] = {"outlets": {}, "tokens": {}, "actors": {}, "customers": customers}
    with factory() as session:
        postgres = session.bind.dialect.name == "postgresql"
        with phase("load_org"):
            for code, (name, _) in CENTERS.items():
                upsert_unit(session, code, name=name, kind="center")
            paths = []
            for n, (code, center, districts, cats) in enumerate(OUTLETS):
                unit = upsert_unit(
                    session, code, name=f"网点{n + 1}", kind="outlet", parent_code=center
                )
                session.flush()
                session.add(
                    OutletProfile(
                        org_unit_id=unit.id,
                        districts=districts,
                        categories=cats,
                        capacity=10 + 5 * (n % 4),
                    )
                )
                paths.append(unit.path)
                world["outlets"][code] = center
            people: dict[str, tuple[str, list[str], list[str]]] = {
                "agent1": ("HQ", ["agents"], ["agent"]),
                "agent2": ("HQ", ["agents"], ["agent"]),
            }
            for code in CENTERS:
                people[f"center_{code}"] = (code, ["centers"], ["center_staff"])
            for code, *_ in OUTLETS:
                people[f"boss_{code}"] = (code, ["outlet_managers"], ["outlet_manager"])
                people[f"eng_{code}"] = (code, ["engineers"], ["engineer"])
            for n, (username, (unit, groups, roles)) in enumerate(people.items()):
                user = upsert_user(
                    session,
                    username=username,
                    org_code=unit,
                    groups=groups,
                    roles=roles,
                    display_name=f"{SURNAMES[n % len(SURNAMES)]}{username[-2:]}",
                    # the agent who opens the order page signs in with a password
                    password_hash=(
                        generate_password_hash(BENCH_PASSWORD) if username == "agent1" else None
                    ),
                )
                session.flush()
                world["tokens"][username] = issue_token(session, user, "bench")
                world["actors"][username] = actor_for(user)
            model_id = 0
            for cat_id, (code, zh, en, months, models) in enumerate(CATEGORIES, 1):
                session.add(
                    ProductCategory(
                        id=cat_id, code=code, name_zh=zh, name_en=en, warranty_months=months
                    )
                )
                session.flush()
                for model in models:
                    model_id += 1
                    session.add(
                        ProductModel(
                            id=model_id, code=model, name=f"{zh} {model}", category_id=cat_id
                        )
                    )
            survey.create_item(
                session, "VISITED", "工程师是否上门？", "Did the engineer visit?", "yes_no",
                required=True,
            )  # fmt: skip
            survey.create_item(
                session, "ATTITUDE", "服务态度", "Manner", "score", weight=3.0, required=True
            )
            session.flush()
            survey.bind(session, "repair", ["VISITED", "ATTITUDE"])
            session.commit()
            # what opening a repair needs (tests/environment.py REPAIR_FILES): its process,
            # the process and decisions it calls, the forms, its service type
            files = [
                (str(p), p.read_bytes())
                for p in [
                    ROOT / "bpmn" / "repair.bpmn",
                    ROOT / "bpmn" / "service_fee.dmn",
                    ROOT / "bpmn" / "visit_fee.dmn",
                    ROOT / "bpmn" / "dispatch.bpmn",
                    *sorted((ROOT / "forms").glob("*.form.json")),
                    ROOT / "bpmn" / "repair.service.json",
                ]
            ]
            execute(session, Deploy(files), SYSTEM_ACTOR)

        n = customers
        pad = lambda expr, width: _pad(postgres, expr, width)  # noqa: E731
        now = "CURRENT_TIMESTAMP"
        empty = "CAST('[]' AS JSON)" if postgres else "'[]'"
        with phase("load_customers"):
            _insert(
                session, postgres, n, "customer",
                "id, name, member_no, member_level, tags, customer_group, note, created_at",
                f"i, '客户' || i, CASE WHEN i % 5 = 0 THEN 'M' || {pad('i', 9)} END, "
                f"{_case('i', ['none', 'none', 'silver', 'gold', 'platinum'])}, {empty}, "
                f"CASE WHEN i % 50 = 0 THEN 'vip' END, '', {now}",
            )  # fmt: skip
        with phase("load_phones"):
            _insert(
                session, postgres, n, "customer_phone", "id, customer_id, phone, kind, is_primary",
                f"i, i, '13' || {pad('i', 9)}, 'mobile', true",
            )  # fmt: skip
            _insert(
                session, postgres, n // 10, "customer_phone",
                "id, customer_id, phone, kind, is_primary",
                f"{n} + i, i * 10, '021' || {pad('i', 8)}, 'landline', false",  # canonical form
            )  # fmt: skip
        with phase("load_addresses"):
            provinces = [p for p, _, _ in DISTRICTS]
            cities = [c for _, c, _ in DISTRICTS]
            districts = [d for _, _, d in DISTRICTS]
            _insert(
                session, postgres, n, "customer_address",
                "id, customer_id, province, city, district, street, is_primary",
                f"i, i, {_case('i', provinces)}, {_case('i', cities)}, {_case('i', districts)}, "
                f"'幸福路' || (i % 999 + 1) || '号', true",
            )  # fmt: skip
        with phase("load_products"):
            purchase = _plus_days(postgres, "2019-01-01", "(i * 37) % 2500")
            install = _plus_days(postgres, "2019-01-04", "(i * 37) % 2500")
            warranty = _plus_days(postgres, "2019-01-01", "(i * 37) % 2500 + 365 * (1 + i % 6)")
            _insert(
                session, postgres, 3 * n, "installed_product",
                "id, customer_id, model_id, serial, purchase_date, install_date, warranty_end, "
                "address_id, created_at",
                f"i, (i - 1) / 3 + 1, i % {model_id} + 1, 'SN' || {pad('i', 10)}, {purchase}, "
                f"{install}, {warranty}, (i - 1) / 3 + 1, {now}",
            )  # fmt: skip
        with phase("load_orders"):
            orders = max(n // 5, 1)
            outlet_paths = " ".join(f"WHEN {k} THEN '{p}'" for k, p in enumerate(paths))
            repair = session.execute(
                sa.select(ProcessDefinition.id, ProcessDefinition.version).where(
                    ProcessDefinition.key == "repair"
                )
            ).one()
            repair_type = session.scalar(
                sa.select(sa.func.max(ServiceType.version)).where(ServiceType.key == "repair")
            )
            ended = (
                f"{now} - (i % 700) * INTERVAL '1 day'"
                if postgres
                else "datetime('now', '-' || (i % 700) || ' days')"
            )
            _insert(  # each order's process instance: the order's unit is the instance's
                session, postgres, orders, "process_instance",
                "id, definition_id, process_key, process_version, business_key, status, "
                "started_by, started_at, ended_at, updated_at, current_activities, "
                "passed_activities, variables, state, waiting, org_path, revision",
                f"i, {repair.id}, 'repair', {repair.version}, 'H' || {pad('i', 10)}, "
                f"'completed', 'import', {ended}, {ended}, {ended}, {empty}, {empty}, "
                f"CAST('{{}}' AS JSON), '', false, CASE i % {len(paths)} {outlet_paths} END, 1"
                if postgres
                else f"i, {repair.id}, 'repair', {repair.version}, 'H' || {pad('i', 10)}, "
                f"'completed', 'import', {ended}, {ended}, {ended}, '[]', '[]', '{{}}', '', "
                f"0, CASE i % {len(paths)} {outlet_paths} END, 1",
            )  # fmt: skip
            status = "CASE WHEN i % 33 = 0 THEN " + _case(
                "i / 33", ["received", "dispatched", "accepted", "on_site", "reviewing"]
            ) + " ELSE 'closed' END"  # fmt: skip
            created = (
                f"{now} - (i % 700) * INTERVAL '1 day'"
                if postgres
                else "datetime('now', '-' || (i % 700) || ' days')"
            )
            _insert(
                session, postgres, orders, "service_order",
                "id, number, type, type_version, status, is_open, customer_id, "
                "installed_product_id, description, in_warranty, process_instance_id, "
                "verified, created_by, created_at, closed_at",
                f"i, 'H' || {pad('i', 10)}, 'repair', {repair_type}, {status}, i % 33 = 0, "
                f"(i * 7) % {n} + 1, ((i * 7) % {n}) * 3 + 1, '空调不制冷', true, i, false, "
                f"'import', {created}, CASE WHEN i % 33 = 0 THEN NULL ELSE {created} END",
            )  # fmt: skip
        if postgres:
            for table in (
                "customer",
                "customer_phone",
                "customer_address",
                "installed_product",
                "service_order",
                "process_instance",
                "product_category",
                "product_model",
            ):
                session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            session.commit()
    with phase("load_analyze"):
        engine = factory.kw["bind"]
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
    return world


def table_sizes(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return {
            t: session.scalar(sa.text(f"SELECT count(*) FROM {t}"))
            for t in ("customer", "customer_phone", "installed_product", "service_order")
        }


# --------------------------------------------------------------------------- in-process


def timed_ms(factory: sessionmaker[Session], action: Any) -> float:
    started = time.perf_counter()
    with factory() as session:
        action(session)
    return (time.perf_counter() - started) * 1000


def measure_lookup(
    factory: sessionmaker[Session], customers: int, count: int, actor: Actor
) -> dict:
    """The caller lookup as ``actor`` sees it: an HQ agent reads every customer, an outlet
    manager finds any caller by exact phone (its hotline), a center only customers with an
    order in its scope (the EXISTS over the customer's orders and their instances)."""
    rng = random.Random(SEED)
    phones = [f"13{rng.randint(1, customers):09d}" for _ in range(count + 20)]
    serials = [f"SN{rng.randint(1, 3 * customers):010d}" for _ in range(count + 20)]
    found = []
    for phone in phones[:20]:  # warm the pool and the plans
        timed_ms(factory, lambda s, p=phone: lookup(s, actor, phone=p))
    by_phone = []
    for phone in phones[20:]:
        by_phone.append(
            timed_ms(factory, lambda s, p=phone: found.append(len(lookup(s, actor, phone=p))))
        )
    by_serial = [timed_ms(factory, lambda s, x=x: lookup(s, actor, serial=x)) for x in serials[20:]]
    return {
        "p95": percentile(by_phone, 95),
        "p50": percentile(by_phone, 50),
        "serial_p95": percentile(by_serial, 95),
        "hits": sum(found) / max(len(found), 1),
    }


def measure_dispatch(factory: sessionmaker[Session], count: int) -> dict:
    rng = random.Random(SEED + 1)
    work = [
        (
            rng.choice(UNSERVED) if rng.random() < 0.05 else rng.choice(REGIONS),
            rng.choice(ALL_CATEGORIES),
        )
        for _ in range(count + 20)
    ]
    chosen = []
    for region, category in work[:20]:
        timed_ms(factory, lambda s, r=region, c=category: choose_outlet(s, r, c))
    times = [
        timed_ms(
            factory,
            lambda s, r=region, c=category: chosen.append(choose_outlet(s, r, c) is not None),
        )
        for region, category in work[20:]
    ]
    return {
        "p95": percentile(times, 95),
        "p50": percentile(times, 50),
        "served": sum(chosen) / max(len(chosen), 1),
    }


def run_kb(url: str, articles: int, count: int, suffix: str) -> None:
    with sessions(url) as factory:
        kb_bench.load(factory, articles)
        p95, median = kb_bench.measure(factory, count)
    emit(f"kb_search_p95_ms{suffix}", p95, "ms")
    emit(f"kb_search_median_ms{suffix}", median, "ms")


# --------------------------------------------------------------------------- journeys


class LostRace(RuntimeError):
    """The server rolled the request back: another command changed the instance first."""


class Api:
    """The JSON API as a client drives it. A lost race (409 "changed by someone else
    meanwhile": the command was rolled back) is sent again, as a client should, up to
    ``RETRIES`` times; ``retried`` counts them (on SQLite two writers often collide)."""

    RETRIES = 5

    def __init__(self, base: str, tokens: dict[str, str]) -> None:
        self.base, self.tokens = base, tokens
        self.retried = 0
        self._lock = threading.Lock()

    def call(self, user: str, method: str, path: str, body: Any = None) -> Any:
        for attempt in range(self.RETRIES + 1):
            try:
                return self._call(user, method, path, body)
            except LostRace:
                if attempt == self.RETRIES:
                    raise
                with self._lock:
                    self.retried += 1
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def _call(self, user: str, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.tokens[user]}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode(errors="replace")
            kind = LostRace if error.code == 409 and "meanwhile" in detail else RuntimeError
            raise kind(f"{method} {path} as {user}: {error.code} {detail}") from None

    def find(self, user: str, number: str, name: str) -> str | None:
        tasks = self.call(user, "GET", f"/api/v1/tasks?business_key={number}")["items"]
        return next((t["id"] for t in tasks if t["name"] == name), None)

    def complete(self, user: str, number: str, name: str, data: dict, task: str = "") -> None:
        task = task or self.find(user, number, name) or ""
        if not task:
            raise RuntimeError(f"{user} sees no open {name} on {number}")
        try:
            self.call(user, "POST", f"/api/v1/tasks/{task}/complete", {"data": data})
        except RuntimeError as error:
            raise RuntimeError(f"{number} {name}: {error}") from None


def serving(customer: int) -> list[str]:
    """The outlets that may get the customer's first product (its region and category, as
    loaded), nearest first: whose inboxes to look in for the accept task."""
    province, city, district = DISTRICTS[customer % len(DISTRICTS)]
    model_id = ((customer - 1) * 3 + 1) % sum(len(c[4]) for c in CATEGORIES) + 1
    category = CATEGORIES[(model_id - 1) // 4][0]
    exact = [o[0] for o in OUTLETS if f"{province}/{city}/{district}" in o[2] and category in o[3]]
    city_wide = [o[0] for o in OUTLETS if f"{province}/{city}" in o[2] and category in o[3]]
    return exact + city_wide


def journey(api: Api, agent: str, world: dict, rng: random.Random) -> None:
    customer = rng.randint(1, world["customers"])
    order = api.call(
        agent,
        "POST",
        "/api/v1/orders",
        {
            "type": "repair",
            "customer_id": customer,
            "serial": f"SN{(customer - 1) * 3 + 1:010d}",
            "description": "空调不制冷，重启也没用",
        },
    )
    number = order["number"]
    api.complete(agent, number, "phone_support", {"solved": False})
    for outlet in serving(customer):  # the outlet whose managers see the new order
        accept = api.find(f"boss_{outlet}", number, "accept")
        if accept:
            break
    else:
        raise RuntimeError(f"{number}: no outlet manager sees its accept task")
    boss, engineer = f"boss_{outlet}", f"eng_{outlet}"
    api.complete(boss, number, "accept", {"accepted": True}, accept)
    api.complete(boss, number, "assign_engineer", {"engineer": engineer})
    api.complete(engineer, number, "check_in", {"checked_in_at": "2026-11-20T10:00"})
    api.complete(engineer, number, "work_report", REPORT)
    api.complete(f"center_{world['outlets'][outlet]}", number, "review", {"approved": True})
    api.complete(agent, number, "callback", {"VISITED": True, "ATTITUDE": 5})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(url: str, workers: int) -> Iterator[str]:
    """gunicorn serving ``webapp:create_app()`` on ``url`` in a subprocess."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="csm_bench_web_") as instance:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "CSM_INSTANCE_DIR": instance,
            "CSM_SECRET_KEY": "bench-only-session-key-0123456789",
        }
        env.pop("REDIS_URL", None)
        process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "--workers", str(workers),
                "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120",
                "webapp:create_app()",
            ],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(base + "/api/v1/tasks", timeout=5)
                except urllib.error.HTTPError:
                    break  # 401: it answers
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the API server did not start") from None
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure_journeys(url: str, world: dict, clients: int, seconds: float) -> dict:
    with server(url, workers=2) as base:
        api = Api(base, world["tokens"])
        for n in range(clients):  # warm both workers (definitions, forms, plans)
            journey(api, f"agent{n % 2 + 1}", world, random.Random(n))
        durations: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        start = time.perf_counter()
        deadline = start + seconds

        def client(n: int) -> None:
            rng = random.Random(SEED + 10 + n)
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                try:
                    journey(api, f"agent{n % 2 + 1}", world, rng)
                except Exception as error:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(str(error))
                    continue
                ended = time.perf_counter()
                if ended <= deadline:
                    with lock:
                        durations.append(ended - began)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if errors:
        print(f"note: {len(errors)} journeys failed; first: {errors[0]}", file=sys.stderr)
    return {
        "done": len(durations),
        "per_min": len(durations) / seconds * 60,
        "p50": statistics.median(durations) if durations else float("nan"),
        "failed": len(errors),
        "retried": api.retried,
    }


# --------------------------------------------------------------------------- the order page


def signature_png(width: int = 360, height: int = 120) -> str:
    """A customer's signature as the signature pad sends it: a PNG data URL of one stroke."""
    rows = [bytearray(b"\x00" + b"\xff" * width) for _ in range(height)]  # filter 0, white
    for x in range(12, width - 12):
        y = int(height / 2 + 0.3 * height * math.sin(x / 17) * math.cos(x / 53))
        for dy in (-2, -1, 0, 1, 2):
            rows[y + dy][1 + x] = 0

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


# the whole history of a case (tests/ui/test_case_record.py walk_to), ending closed
CASE_REPORT = {
    **REPORT,
    "solution": "补充冷媒，更换启动电容",
    "parts_used": [
        {"code": "CAP-35", "name": "启动电容", "qty": 2, "unit_price": 45.5},
        {"code": "R32-1KG", "name": "R32 冷媒 1kg", "qty": 1, "unit_price": 120},
    ],
    "customer_signature": signature_png(),
}


def _complete_step(
    factory: sessionmaker[Session], world: dict, number: str, name: str, user: str, data: dict
) -> None:
    with factory() as session:
        task = session.scalar(
            sa.select(HumanTask.id).where(
                HumanTask.business_key == number,
                HumanTask.name == name,
                HumanTask.status == "open",
            )
        )
        if task is None:
            raise RuntimeError(f"{number} has no open {name} task")
        execute(session, Complete(task, data=data), world["actors"][user])


def closed_case(factory: sessionmaker[Session], world: dict, customer: int) -> str:
    """A repair driven through its whole journey by the engine's commands as the people whose
    step it is (the steps and data of tests/ui/test_case_record.py, a happy callback): its
    number once closed."""
    with factory() as session:
        number = create_order(
            session,
            world["actors"]["agent1"],
            {
                "type": "repair",
                "customer_id": customer,
                "serial": f"SN{(customer - 1) * 3 + 1:010d}",
                "description": "外机不转，空调不制冷",
                "data": {"urgency": "urgent", "visit_period": "morning"},
            },
        ).number
    _complete_step(factory, world, number, "phone_support", "agent1", {"solved": False})
    with factory() as session:  # the outlet dispatch chose: where its accept task waits
        outlet = session.scalar(
            sa.select(OrgUnit.code)
            .join(HumanTask, HumanTask.org_path == OrgUnit.path)
            .where(
                HumanTask.business_key == number,
                HumanTask.name == "accept",
                HumanTask.status == "open",
            )
        )
    if outlet is None:
        raise RuntimeError(f"{number}: dispatch placed it at no outlet")
    boss, engineer = f"boss_{outlet}", f"eng_{outlet}"
    center = f"center_{world['outlets'][outlet]}"
    steps = [
        ("accept", boss, {"accepted": True}),
        ("assign_engineer", boss, {"engineer": engineer, "appointment": "2026-11-20T09:30"}),
        (
            "check_in",
            engineer,
            {"checked_in_at": "2026-11-20T10:00", "latitude": 31.2215, "longitude": 121.5447},
        ),
        ("work_report", engineer, CASE_REPORT),
        ("review", center, {"approved": True, "review_comment": "照片齐全"}),
        ("callback", "agent1", {"VISITED": True, "ATTITUDE": 5}),
    ]
    for name, user, data in steps:
        _complete_step(factory, world, number, name, user, data)
    with factory() as session:
        status = session.scalar(sa.select(ServiceOrder.status).where(ServiceOrder.number == number))
    if status != "closed":
        raise RuntimeError(f"{number} ended {status!r}, not closed")
    return number


@contextlib.contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Environment variables set (None: unset) for the block, restored after it."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def server_backends(engine: sa.Engine) -> list[int]:
    """The PostgreSQL backends serving ``engine``'s database (the app's pooled connections),
    when the server runs on this machine; [] on SQLite."""
    if engine.dialect.name != "postgresql" or engine.url.host not in ("127.0.0.1", "localhost"):
        return []
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
        )


def server_cpu_s(pids: list[int]) -> float | None:
    """User and system CPU seconds the backends ``pids`` have used (from /proc), or None."""
    if not pids:
        return None
    total = 0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except (OSError, IndexError, ValueError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def measure_order_page(
    url: str, numbers: list[str], samples: int, warmup: int, profile: int
) -> dict:
    """``GET /orders/<number>`` through ``app.test_client()`` signed in as an HQ agent on the
    login page (CSRF on, as in production), round robin over ``numbers``; ms per request."""
    from webapp import create_app
    from webapp.extensions import db

    with (
        tempfile.TemporaryDirectory(prefix="csm_bench_page_") as instance,
        environment(CSM_INSTANCE_DIR=instance, REDIS_URL=None),
    ):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
                "SECRET_KEY": "bench-only-session-key-0123456789",
                "REDIS_URL": None,
                "EMBEDDED_TIMERS": False,
                "RATELIMIT_STORAGE_URI": "memory://",
            }
        )
        try:
            client = app.test_client()
            match = TOKEN.search(client.get("/login").get_data(as_text=True))
            if match is None:
                raise RuntimeError("the login page carries no csrf_token")
            signed_in = client.post(
                "/login",
                data={"username": "agent1", "password": BENCH_PASSWORD, "csrf_token": match[1]},
            )
            if signed_in.status_code != 302:
                raise RuntimeError(f"signing in as agent1 answered {signed_in.status_code}")
            paths = [f"/orders/{number}" for number in numbers]
            sizes = []
            for k in range(max(warmup, len(paths))):  # every page once, checked
                response = client.get(paths[k % len(paths)])
                page = response.get_data(as_text=True)
                if response.status_code != 200 or "data-case-record" not in page:
                    raise RuntimeError(f"{paths[k % len(paths)]} answered {response.status_code}")
                if "启动电容" not in page or "data-signature" not in page:
                    raise RuntimeError(f"{paths[k % len(paths)]} shows no work report")
                sizes.append(len(response.data))
            times, cpu = [], []
            with app.app_context():
                backends = server_backends(db.engine)
            server_before = server_cpu_s(backends)
            for k in range(samples):
                started, used = time.perf_counter(), time.process_time()
                response = client.get(paths[k % len(paths)])
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{paths[k % len(paths)]} answered {response.status_code}")
            server_after = server_cpu_s(backends)
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for k in range(profile):
                    client.get(paths[k % len(paths)])
                profiler.disable()
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out)
                print(f"--- cProfile of {profile} order pages, by cumulative time", file=out)
                stats.sort_stats("cumulative").print_stats(40)
                print("--- the same by own time", file=out)
                stats.sort_stats("tottime").print_stats(25)
                print(out.getvalue(), file=sys.stderr)
        finally:
            with app.app_context():
                db.engine.dispose()
    return {
        "p95": percentile(times, 95),
        "p50": percentile(times, 50),
        "max": max(times),
        "cpu_p95": percentile(cpu, 95),
        "cpu_p50": percentile(cpu, 50),
        "server_cpu_mean": (
            (server_after - server_before) * 1000 / samples
            if server_before is not None and server_after is not None
            else None
        ),
        "bytes": statistics.median(sizes),
    }


def run_order_page(factory: sessionmaker[Session], url: str, world: dict, args: Any) -> dict:
    rng = random.Random(SEED + 2)
    customers = [rng.randint(1, world["customers"]) for _ in range(args.case_orders)]
    with phase("order_page_journeys"):
        numbers = [closed_case(factory, world, c) for c in customers]
    with phase("order_page_samples"):
        return measure_order_page(url, numbers, args.page_samples, 30, args.profile)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--articles", type=int, default=None, help="default 10,000")
    parser.add_argument("--queries", type=int, default=None, help="per figure, default 300")
    parser.add_argument("--journey-seconds", type=float, default=None, help="default 60")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument(
        "--case-orders", type=int, default=5, help="closed repairs whose page is timed (5)"
    )
    parser.add_argument(
        "--page-samples", type=int, default=None, help="order pages timed, default 300"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="after timing, profile N more order pages with cProfile (stats on stderr)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--only", default="", help=f"groups: {', '.join(GROUPS)}")
    args = parser.parse_args(argv)
    quick = args.quick
    args.customers = args.customers or (20_000 if quick else 1_000_000)
    args.articles = args.articles or (1_000 if quick else 10_000)
    args.queries = args.queries or (100 if quick else 300)
    args.journey_seconds = args.journey_seconds or (10.0 if quick else 60.0)
    args.page_samples = args.page_samples or (200 if quick else 300)
    chosen = {g.strip() for g in args.only.split(",") if g.strip()} or set(GROUPS)
    unknown = chosen - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s) {sorted(unknown)}; choose from {sorted(GROUPS)}")
    args.groups = chosen
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    groups = args.groups
    began = time.perf_counter()
    suffix = "_pg" if HAS_PG else ""
    emit("load_avg_1m_at_start", os.getloadavg()[0], "load")

    if groups & {"lookup", "dispatch", "journeys", "order_page"}:
        database = postgres_database if HAS_PG else sqlite_database
        with database() as url, sessions(url) as factory:
            with phase(f"load{suffix}"):
                world = load_world(factory, args.customers)
            sizes = table_sizes(factory)
            emit(f"customers{suffix}", sizes["customer"], "rows")
            emit(f"customer_phones{suffix}", sizes["customer_phone"], "rows")
            emit(f"installed_products{suffix}", sizes["installed_product"], "rows")
            emit(f"service_orders{suffix}", sizes["service_order"], "rows")
            if "lookup" in groups:
                for who, username in LOOKUP_ACTORS.items():
                    actor = world["actors"][username]
                    with phase(f"lookup{who}{suffix}"):
                        found = measure_lookup(factory, args.customers, args.queries, actor)
                    emit(f"lookup{who}_p95_ms{suffix}", found["p95"], "ms")
                    emit(f"lookup{who}_median_ms{suffix}", found["p50"], "ms")
                    emit(f"lookup{who}_serial_p95_ms{suffix}", found["serial_p95"], "ms")
                    emit(f"lookup{who}_customers_per_hit{suffix}", found["hits"], "customers")
            if "dispatch" in groups:
                with phase(f"dispatch{suffix}"):
                    chosen = measure_dispatch(factory, args.queries)
                emit(f"dispatch_decision_p95_ms{suffix}", chosen["p95"], "ms")
                emit(f"dispatch_decision_median_ms{suffix}", chosen["p50"], "ms")
                emit(f"dispatch_served_share{suffix}", chosen["served"], "share")
            if "order_page" in groups:
                # the machine's load right around the timed pages, as the figure depends on it
                emit(f"order_page_load_avg_1m_before{suffix}", os.getloadavg()[0], "load")
                with phase(f"order_page{suffix}"):
                    page = run_order_page(factory, url, world, args)
                emit(f"order_page_load_avg_1m_after{suffix}", os.getloadavg()[0], "load")
                emit(f"order_page_p95_ms{suffix}", page["p95"], "ms")
                emit(f"order_page_median_ms{suffix}", page["p50"], "ms")
                emit(f"order_page_max_ms{suffix}", page["max"], "ms")
                emit(f"order_page_cpu_p95_ms{suffix}", page["cpu_p95"], "ms")
                emit(f"order_page_cpu_median_ms{suffix}", page["cpu_p50"], "ms")
                if page["server_cpu_mean"] is not None:
                    emit(f"order_page_server_cpu_mean_ms{suffix}", page["server_cpu_mean"], "ms")
                emit(f"order_page_bytes{suffix}", page["bytes"], "bytes")
                emit(f"order_page_samples{suffix}", args.page_samples, "requests")
            if "journeys" in groups:
                with phase(f"journeys{suffix}"):
                    done = measure_journeys(url, world, args.clients, args.journey_seconds)
                emit(f"journeys_completed{suffix}", done["done"], "journeys")
                emit(f"journeys_failed{suffix}", done["failed"], "journeys")
                emit(f"journey_requests_retried{suffix}", done["retried"], "requests")
                emit(f"journeys_per_min{suffix}", done["per_min"], "journeys/min")
                emit(f"journey_p50_s{suffix}", done["p50"], "s")
                with factory() as session:  # a cross-check: closed and verified in the database
                    closed = session.scalar(
                        sa.select(sa.func.count()).where(
                            ServiceOrder.created_by.in_(["agent1", "agent2"]),
                            ServiceOrder.status == "closed",
                            ServiceOrder.verified.is_(True),
                        )
                    )
                emit(f"journeys_closed_in_db{suffix}", closed, "orders")

    if "kb" in groups:
        with phase("kb"), sqlite_database() as url:
            run_kb(url, args.articles, args.queries, "")
        if HAS_PG:
            with phase("kb_pg"), postgres_database() as url:
                run_kb(url, args.articles, args.queries, "_pg")
        emit("kb_articles", args.articles, "articles")

    emit("load_avg_1m_at_end", os.getloadavg()[0], "load")
    emit("phase_total_s", time.perf_counter() - began, "s")


if __name__ == "__main__":
    main()

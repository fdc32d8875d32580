"""Process-monitoring benchmark: prints ``name: value unit`` lines and asserts nothing.

Run from the repository root (``DATABASE_URL`` naming PostgreSQL adds the ``_pg`` figures)::

    .venv/bin/python -m bench.monitoring                          # the demo: 3,000 orders
    .venv/bin/python -m bench.monitoring --orders 300 --customers 200   # a smoke run
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.monitoring

The world is ``csm demo``'s, built in a scratch database by the real migrations and the real
commands (its history replayed over two months), so every figure reads what a manager's pages
read: orders stopped at every step, durations, overdue work.

The figures
-----------
``demo_orders_per_s``
    Orders driven through their processes per second while building the world.
``definition_stats_p95_ms``
    ``engine.monitoring.activity_stats`` for the repair process as the HQ manager sees it
    (tokens, incidents, time spent per activity): what ``/definitions/repair`` lays over
    its diagram.
``instance_path_p95_ms``
    ``engine.monitoring.instance_path`` of a running repair order (loads its workflow).
``instance_list_p95_ms``
    The first page of ``/instances`` filtered on overdue tasks, with its counts per status.
``sla_ms``
    ``/monitoring/sla``'s queries: lateness per activity and per unit, durations over 30 days.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make ``bench`` and ``engine`` importable
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

import aftersales  # noqa: E402
from aftersales.demo.world import Size
from bench.engine import (  # noqa: E402
    HAS_PG,
    emit,
    percentile,
    postgres_database,
    sessions,
    sqlite_database,
)
from engine import monitoring, queries  # noqa: E402
from engine.identity import Actor, actor_for  # noqa: E402
from engine.models import ProcessDefinition, ProcessInstance, User, utcnow  # noqa: E402
from forms.binding import install  # noqa: E402
from webapp.demo import load_demo  # noqa: E402


def build(factory: sessionmaker[Session], args: argparse.Namespace) -> float:
    started = time.perf_counter()
    with factory() as session:
        for _line in load_demo(session, Size(customers=args.customers, orders=args.orders)):
            pass
    return time.perf_counter() - started


def p95_ms(factory: sessionmaker[Session], runs: int, action) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        with factory() as session:
            started = time.perf_counter()
            action(session)
            times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 95)


def run(url: str, args: argparse.Namespace, suffix: str) -> None:
    with sessions(url) as factory:
        elapsed = build(factory, args)
        if not suffix:
            emit("demo_orders", args.orders, "orders")
        emit(f"demo_orders_per_s{suffix}", args.orders / elapsed, "orders/s")
        with factory() as session:
            manager: Actor = actor_for(
                session.scalar(sa.select(User).where(User.username == "manager"))
            )
            repair = session.scalar(
                sa.select(ProcessDefinition.id)
                .where(ProcessDefinition.key == "repair")
                .order_by(ProcessDefinition.version.desc())
            )
            running = session.scalar(
                sa.select(ProcessInstance.id).where(
                    ProcessInstance.definition_id == repair, ProcessInstance.status == "running"
                )
            )

        def stats(session: Session) -> None:
            monitoring.activity_stats(session, repair, manager)

        def path(session: Session) -> None:
            monitoring.instance_path(session, session.get(ProcessInstance, running))

        def listing(session: Session) -> None:
            where = queries.InstanceFilter(with_overdue_task=True)
            page = queries.Page(1, 20)
            queries.list_instances(session, manager, page=page, where=where, light=True)
            queries.instance_status_counts(session, manager, where)

        def sla(session: Session) -> None:
            monitoring.lateness(session, manager, "activity")
            monitoring.lateness(session, manager, "unit")
            monitoring.durations(session, manager, since=utcnow() - timedelta(days=30))

        emit(f"definition_stats_p95_ms{suffix}", p95_ms(factory, args.runs, stats), "ms")
        emit(f"instance_path_p95_ms{suffix}", p95_ms(factory, args.runs, path), "ms")
        emit(f"instance_list_p95_ms{suffix}", p95_ms(factory, args.runs, listing), "ms")
        emit(f"sla_ms{suffix}", p95_ms(factory, max(3, args.runs // 10), sla), "ms")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    install()
    aftersales.install()
    with sqlite_database() as url:
        run(url, args, "")
    if HAS_PG:
        with postgres_database() as url:
            run(url, args, "_pg")
    else:
        print("note: DATABASE_URL names no PostgreSQL; skipping the _pg figures", file=sys.stderr)


if __name__ == "__main__":
    main()

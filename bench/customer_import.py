"""Customer import benchmark: prints ``name: value unit`` lines and asserts nothing.

Run from the repository root::

    .venv/bin/python -m bench.customer_import              # 100,000 rows
    .venv/bin/python -m bench.customer_import --rows 10000

A scratch SQLite database (built by the real migrations, deleted at the end) with one product
model; a CSV of ``--rows`` customers, each with a mobile phone, an address and an installed
product, uploaded with ``aftersales.customers.imports.start_import`` and carried out by
``advance_imports`` as a worker would: every row checked, then all stored in one transaction.

``import_100k_s`` (``import_<N>_s`` for other sizes)
    Wall time from the upload to the completed import (checking and storing).
``import_status``
    The import's final status (``completed`` when every row was stored).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

import aftersales  # noqa: F401  (the domain's tables)
from aftersales.customers.imports import advance_imports, start_import
from aftersales.customers.models import CustomerImport
from aftersales.products.models import ProductCategory, ProductModel
from engine.db import make_engine, make_session_factory
from engine.identity import actor_for, upsert_user
from engine.migrate import upgrade

HEADER = "会员编号,姓名,电话,会员等级,省,市,区县,详细地址,序列号,型号,购买日期,安装日期\n"


def csv_rows(n: int) -> bytes:
    lines = [HEADER]
    for i in range(n):
        lines.append(
            f"M{i:08d},客户{i},139{i:08d},金卡,上海市,上海市,浦东新区,世纪大道 {i} 号,"
            f"SNB{i:09d},KFR-35GW,2024-01-01,2024-01-05\n"
        )
    return "".join(lines).encode()


def label(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            category = ProductCategory(
                code="AC", name_zh="空调", name_en="Air conditioner", warranty_months=72
            )
            session.add(ProductModel(code="KFR-35GW", name="壁挂式空调", category=category))
            lead = actor_for(upsert_user(session, username="lead", roles=["team_lead"]))
            session.commit()
        content = csv_rows(args.rows)
        started = time.perf_counter()
        with factory() as session:
            job = start_import(session, lead, file_name="customers.csv", content=content)
            session.commit()
            job_id = job.id
        advance_imports(factory)
        elapsed = time.perf_counter() - started
        with factory() as session:
            job = session.get(CustomerImport, job_id)
            status = job.status
            customers = session.scalar(sa.text("SELECT count(*) FROM customer"))
        engine.dispose()
    print(f"import_{label(args.rows)}_s: {elapsed:.1f} s")  # noqa: T201
    print(f"import_customers: {customers} rows")  # noqa: T201
    print(f"import_status: {status}")  # noqa: T201


if __name__ == "__main__":
    main()

"""Importing customers from the enterprise's existing systems: every row is checked before
anything is stored, a bad row stores nothing and is named by its row and column, and a good
file stores its customers, phones, addresses and products in one go — in the background, a
worker taking the import by a lease."""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from aftersales.customers.imports import advance_imports, start_import
from aftersales.customers.models import Customer, CustomerAddress, CustomerImport, CustomerPhone
from aftersales.products.models import InstalledProduct
from engine.errors import Forbidden, InvalidInput
from tests.aftersales.world import build

HEADER = "会员编号,姓名,电话,会员等级,省,市,区县,详细地址,序列号,型号,购买日期,安装日期\n"
GOOD = HEADER + (
    "M001,王芳,13911112222；021-6488 1234,金卡,上海市,上海市,浦东新区,张杨路 8 号,"
    "SN-IMP-1,KFR-35GW,2023-05-01,2023-05-03\n"
    "M001,王芳,13911112222,金卡,上海市,上海市,浦东新区,张杨路 8 号,SN-IMP-2,KFR-35GW,2024/1/2,\n"
    ",李强,+86 138 1234 5678,,浙江省,杭州市,西湖区,,,,,\n"
    "M002,赵敏,13700001111,白金,,,,,,,,\n"
)


@pytest.fixture
def world(session_factory):  # noqa: ANN001, ANN201
    return build(session_factory)


def imported(
    world, content: bytes, name: str = "customers.csv", who: str = "lead"
) -> CustomerImport:  # noqa: ANN001, E501
    """Upload the file as ``who`` and let a worker carry it out."""
    with world.factory() as session:
        job = start_import(session, world.actors[who], file_name=name, content=content)
        session.commit()
        job_id = job.id
    assert advance_imports(world.factory) == 1
    with world.factory() as session:
        return session.get(CustomerImport, job_id)


def count(world, model: type) -> int:  # noqa: ANN001
    with world.factory() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_good_file_imports_every_customer_with_phones_addresses_and_products(world):
    job = imported(world, GOOD.encode())
    assert (job.status, job.customers, job.products, job.error_count) == ("completed", 3, 2, 0)
    with world.factory() as session:
        kept = sa.select(CustomerImport.content).where(CustomerImport.id == job.id)
        assert session.scalar(kept) is None  # the rows are the record now
        wang = session.scalar(sa.select(Customer).where(Customer.member_no == "M001"))
        assert (wang.name, wang.member_level) == ("王芳", "gold")
        assert [(p.phone, p.kind, p.is_primary) for p in wang.phones] == [
            ("13911112222", "mobile", True),
            ("02164881234", "landline", False),
        ]
        assert [a.text for a in wang.addresses] == ["上海市上海市浦东新区张杨路 8 号"]
        products = {p.serial: p for p in wang.products}
        first = products["SN-IMP-1"]
        assert (first.install_date, first.warranty_end) == (date(2023, 5, 3), date(2029, 5, 3))
        assert first.address_id == wang.addresses[0].id
        assert products["SN-IMP-2"].purchase_date == date(2024, 1, 2)
        li = session.scalar(sa.select(Customer).where(Customer.name == "李强"))
        assert li.phones[0].phone == "13812345678" and li.addresses[0].district == "西湖区"
        zhao = session.scalar(sa.select(Customer).where(Customer.member_no == "M002"))
        assert zhao.member_level == "platinum" and zhao.addresses == []


def test_one_bad_row_stores_nothing_and_names_its_row_and_column(world):
    before = [count(world, m) for m in (Customer, CustomerPhone, CustomerAddress, InstalledProduct)]
    bad = GOOD + ",孙悦,12345,,上海市,上海市,,,SN-1,NO-SUCH,2099-01-01,\n"
    job = imported(world, bad.encode())
    assert job.status == "refused"
    assert [(e["row"], e["column"], e["code"]) for e in job.errors] == [
        (6, "district", "address_incomplete"),
        (6, "model", "model_unknown"),
        (6, "phone", "phone_too_short"),
        (6, "purchase_date", "date_future"),
        (6, "serial", "serial_taken"),  # the world's own SN-1
    ]
    assert job.error_count == 5
    after = [count(world, m) for m in (Customer, CustomerPhone, CustomerAddress, InstalledProduct)]
    assert after == before


def test_a_serial_already_registered_or_repeated_in_the_file_is_an_error(world):
    rows = HEADER + (
        ",甲,13900000001,,,,,,SN-1,KFR-35GW,2024-01-01,\n"  # the world's own SN-1
        ",乙,13900000002,,,,,,SN-X,KFR-35GW,2024-01-01,\n"
        ",丙,13900000003,,,,,,SN-X,KFR-35GW,2024-01-01,\n"
    )
    job = imported(world, rows.encode())
    assert [(e["row"], e["code"]) for e in job.errors] == [
        (2, "serial_taken"),
        (4, "serial_repeated"),
    ]


def test_a_header_without_the_required_columns_is_refused_before_any_row(world):
    job = imported(world, "姓名,手机号\n王芳,13911112222\n".encode())
    assert [(e["row"], e["column"], e["code"]) for e in job.errors] == [
        (1, "phone", "missing_column"),
        (1, "手机号", "unknown_column"),
    ]


def test_an_excel_workbook_imports_like_a_csv(world):
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "电话", "省", "市", "区县", "序列号", "型号", "购买日期"])
    sheet.append(["钱多多", 13655556666, "广东省", "广州市", "天河区", "SN-XL-1", "KFR-35GW",
                  date(2022, 8, 8)])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    job = imported(world, buffer.getvalue(), name="客户.xlsx")
    assert (job.status, job.customers, job.products) == ("completed", 1, 1)
    with world.factory() as session:
        product = session.scalar(
            sa.select(InstalledProduct).where(InstalledProduct.serial == "SN-XL-1")
        )
        assert product.customer.phones[0].phone == "13655556666"


def test_only_team_leads_and_administrators_import_and_only_csv_or_excel(world):
    with world.factory() as session:
        with pytest.raises(Forbidden):
            start_import(session, world.actors["agent"], file_name="a.csv", content=b"x")
        with pytest.raises(InvalidInput):
            start_import(session, world.actors["lead"], file_name="a.pdf", content=b"x")


def test_an_import_is_carried_out_by_one_worker_only(world):
    with world.factory() as session:
        start_import(session, world.actors["lead"], file_name="a.csv", content=GOOD.encode())
        session.commit()
    assert advance_imports(world.factory) == 1
    assert advance_imports(world.factory) == 0  # finished: nothing left to take
    assert count(world, Customer) == 1 + 3


def rows(n: int) -> bytes:
    """``n`` customers, each with a mobile phone, an address and an air conditioner."""
    lines = [HEADER]
    for i in range(n):
        lines.append(
            f"C{i:07d},客户{i},139{i:08d},,上海市,上海市,浦东新区,路 {i} 号,"
            f"SN-BULK-{i:07d},KFR-35GW,2024-01-01,\n"
        )
    return "".join(lines).encode()


@pytest.mark.parametrize("n", [5_000])
def test_many_rows_import_within_a_reasonable_time(world, n):
    """Sized for CI; bench/customer_import.py measures 100,000 rows."""
    started = time.perf_counter()
    job = imported(world, rows(n))
    elapsed = time.perf_counter() - started
    assert (job.status, job.customers, job.products) == ("completed", n, n)
    assert (job.total_rows, job.checked_rows) == (n, n)
    assert elapsed < 60, f"{n} rows took {elapsed:.1f} s"


def test_embedded_mode_carries_out_an_upload_in_the_web_process(world, session_factory):
    """Without Redis the web process's import thread does the worker's part."""
    from webapp import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": session_factory.kw["bind"].url.render_as_string(False),
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "SECRET_KEY": "test",
            "EMBEDDED_TIMERS": True,
            "TIMER_INTERVAL_S": 0.1,
        }
    )
    threads = [app.extensions["csm_timer_thread"], app.extensions["csm_import_thread"]]
    try:
        with world.factory() as session:
            job = start_import(
                session, world.actors["lead"], file_name="a.csv", content=GOOD.encode()
            )
            session.commit()
            job_id = job.id
        deadline = time.monotonic() + 20
        status = "waiting"
        while status not in ("completed", "refused", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
            with world.factory() as session:
                status = session.get(CustomerImport, job_id).status
        assert status == "completed"
    finally:
        for thread in threads:
            thread.stop.set()
            thread.join(timeout=10)

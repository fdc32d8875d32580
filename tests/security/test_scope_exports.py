"""The instance list's Excel export holds only what the exporter's scope holds: an outlet its
own orders, a center its outlets', HQ everything; a unit filter outside the scope is refused."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from tests.ui.pages import World

from .scope_world import (
    PUDONG,
    TIANHE,
    customer,
    deploy,
    dispatched_order,
    refused,
)


def exported(world: World, username: str, query: str = "") -> set[str]:
    """The order numbers in the workbook the user downloads (the demo's sample instances,
    keyed DEMO-..., left out)."""
    response = world.client(username).get(f"/instances.xlsx{query}")
    assert response.status_code == 200, response.status_code
    sheet = load_workbook(BytesIO(response.data)).active
    keys = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True) if row and row[1]}
    return {k for k in keys if not k.startswith("DEMO-")}


def _orders(world: World) -> dict[str, str]:
    """Orders at the Pudong, Minhang (refused by Pudong) and Tianhe outlets."""
    deploy(world)
    pudong = customer(world, "陈静", "13800138000", PUDONG)
    tianhe = customer(world, "陈磊", "13800138001", TIANHE)
    orders = {
        "O-SH-PD": dispatched_order(world, pudong),
        "O-SH-MH": dispatched_order(world, pudong),
        "O-GZ-TH": dispatched_order(world, tianhe),
    }
    assert refused(world, orders["O-SH-MH"], "outlet") == "O-SH-MH"
    return orders


def test_an_outlets_export_holds_only_its_own_orders(world: World) -> None:
    orders = _orders(world)
    assert exported(world, "outlet") == {orders["O-SH-PD"]}
    assert exported(world, "eng-gz-th-1") == {orders["O-GZ-TH"]}


def test_a_centers_export_holds_its_outlets_orders_and_not_another_centers(world: World) -> None:
    orders = _orders(world)
    assert exported(world, "center") == {orders["O-SH-PD"], orders["O-SH-MH"]}
    assert exported(world, "center-south") == {orders["O-GZ-TH"]}


def test_an_hq_export_holds_every_order(world: World) -> None:
    orders = _orders(world)
    assert exported(world, "agent") == set(orders.values())


def test_an_export_filtered_to_a_unit_outside_the_scope_is_refused(world: World) -> None:
    _orders(world)
    response = world.client("outlet").get("/instances.xlsx?unit=O-GZ-TH")
    assert response.status_code == 422
    assert response.mimetype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_center_filters_its_export_to_one_of_its_outlets(world: World) -> None:
    orders = _orders(world)
    assert exported(world, "center", "?unit=O-SH-MH") == {orders["O-SH-MH"]}

"""A small, believable after-sales world for the demo, generated deterministically.

Product catalogue, outlets' service districts, engineers, parts, customers with installed
products. The same seed gives the same world, and running it again adds nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.orm import Session

from aftersales.customers.models import Customer
from aftersales.customers.service import create_customer
from aftersales.outlets.models import OutletProfile
from aftersales.products.models import InstalledProduct, Part, ProductCategory, ProductModel
from aftersales.products.service import warranty_end
from engine.models import OrgUnit

DATA = Path(__file__).with_name("data")


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Outlet:
    code: str
    name: str
    center: str
    districts: list[str]  # "province/city/district", or "province/city" for the whole city
    categories: list[str]
    latitude: float
    longitude: float


_WORLD = _load("world.json")
CATEGORIES = [
    (c["code"], c["zh"], c["en"], c["warranty_months"], c["models"]) for c in _WORLD["categories"]
]
CENTERS = [(c["code"], c["name"]) for c in _WORLD["centers"]]
OUTLETS = [Outlet(**o) for o in _WORLD["outlets"]]
# Where the demo's customers live: the districts the outlets serve and a few more in their
# cities (served city-wide), with the district's rough centre.
REGIONS: dict[str, tuple[float, float]] = {k: tuple(v) for k, v in _WORLD["regions"].items()}
PART_NAMES: dict[str, list[str]] = _WORLD["part_names"]


@dataclass(frozen=True)
class Size:
    """How much the demo builds; tests that count things take ``Size.bare()``."""

    customers: int = 2000
    orders: int = 3000
    parts: int = 300
    articles: bool = True
    seed: int = 20261123


def bare() -> Size:
    """The organisation, people and processes only: what page tests count on."""
    return Size(customers=0, orders=0, parts=0, articles=False)


def catalogue(session: Session) -> dict[str, ProductModel]:
    """Categories with warranty terms and three models each; existing ones are kept."""
    models = {m.code: m for m in session.scalars(sa.select(ProductModel))}
    for code, zh, en, months, codes in CATEGORIES:
        category = session.scalar(sa.select(ProductCategory).where(ProductCategory.code == code))
        if category is None:
            category = ProductCategory(code=code, name_zh=zh, name_en=en, warranty_months=months)
            session.add(category)
        for number in codes:
            if number not in models:
                models[number] = ProductModel(code=number, name=f"{zh} {number}", category=category)
                session.add(models[number])
    session.flush()
    return models


def outlets(session: Session) -> None:
    """Each outlet's service profile: districts, categories, capacity, where it is."""
    for outlet in OUTLETS:
        unit = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == outlet.code))
        if unit is None or session.get(OutletProfile, unit.id) is not None:
            continue
        session.add(
            OutletProfile(
                org_unit_id=unit.id,
                districts=outlet.districts,
                categories=outlet.categories,
                capacity=30,
                phone=f"400-800-{1000 + unit.id}",
                address=f"{outlet.districts[0].replace('/', '')}服务路 {unit.id} 号",
                latitude=outlet.latitude,
                longitude=outlet.longitude,
            )
        )
    session.flush()


def parts(session: Session, models: dict[str, ProductModel], rng: random.Random, count: int) -> int:
    """The spare-parts catalogue: each part fits one category's models."""
    if count <= 0 or session.scalar(sa.select(sa.func.count()).select_from(Part)):
        return 0
    by_category: dict[str, list[str]] = {}
    for code, model in sorted(models.items()):
        by_category.setdefault(model.category.code, []).append(code)
    kinds = [(cat, name) for cat, names in PART_NAMES.items() for name in names]
    for i in range(count):
        category, name = kinds[i % len(kinds)]
        fits = by_category.get(category, [])
        series = i // len(kinds)
        chosen = fits if series == 0 else [fits[(series - 1) % len(fits)]] if fits else []
        label = name if series == 0 else f"{name}（{chosen[0]}专用）" if chosen else name
        session.add(
            Part(
                code=f"P-{category}-{1000 + i}",
                name=label,
                models=chosen,
                price=Decimal(rng.randrange(8, 1200)) + Decimal("0.00"),
            )
        )
    session.flush()
    return count


def customers(
    session: Session, models: dict[str, ProductModel], size: Size, rng: random.Random
) -> int:
    """Customers in the outlets' regions, each with one to four products; four in five
    addresses have coordinates (the rest are learnt at an engineer's check-in)."""
    have = session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0
    if have >= size.customers:
        return 0
    fake = Faker("zh_CN")
    fake.seed_instance(size.seed + have)
    regions = sorted(REGIONS)
    today = date.today()
    made = 0
    for i in range(have, size.customers):
        region = regions[i % len(regions)] if i < len(regions) else rng.choice(regions)
        province, city, district = region.split("/")
        centre = REGIONS[region]
        located = rng.random() < 0.8
        customer = create_customer(
            session,
            name=fake.name(),
            phone=f"13{rng.randrange(0, 10)}{i:08d}",
            address={
                "province": province,
                "city": city,
                "district": district,
                "street": f"{fake.street_name()}{rng.randrange(1, 300)}号",
            },
        )
        if located:
            address = customer.addresses[0]
            address.latitude = round(centre[0] + rng.uniform(-0.06, 0.06), 5)
            address.longitude = round(centre[1] + rng.uniform(-0.07, 0.07), 5)
        customer.member_level = rng.choice(["none", "none", "silver", "gold", "platinum"])
        if customer.member_level != "none":
            customer.member_no = f"M{i:08d}"
        for j in range(1 + i % 4):  # one to four, 2.5 on average: 5,000 for 2,000 customers
            model = models[rng.choice(sorted(models))]
            bought = today - timedelta(days=rng.randrange(30, 2500))
            installed = bought + timedelta(days=rng.randrange(0, 10))
            session.add(
                InstalledProduct(
                    customer=customer,
                    model=model,
                    serial=f"SN{model.category.code}{i:06d}{j}",
                    purchase_date=bought,
                    install_date=installed,
                    warranty_end=warranty_end(model, bought, installed),
                    address_id=customer.addresses[0].id,
                )
            )
        made += 1
        if made % 200 == 0:
            session.flush()
    session.flush()
    return made


def knowledge(session: Session) -> int:
    """The knowledge base's answers to the commonest faults, written once."""
    from aftersales.knowledge.models import KbArticle
    from aftersales.knowledge.service import save_article
    from engine.identity import SYSTEM_ACTOR

    if session.scalar(sa.select(sa.func.count()).select_from(KbArticle)):
        return 0
    articles = _load("articles.json")
    for article in articles:
        save_article(
            session,
            title=article["title"],
            body=article["body"],
            category=article["category"],
            models=article["models"],
            actor=SYSTEM_ACTOR,
        )
    session.flush()
    return len(articles)


def build(session: Session, size: Size | None = None) -> Iterator[str]:
    size = size or Size()
    rng = random.Random(size.seed)
    models = catalogue(session)
    outlets(session)
    made_parts = parts(session, models, rng, size.parts)
    made = customers(session, models, size, rng)
    articles = knowledge(session) if size.articles else 0
    session.commit()
    products = session.scalar(sa.select(sa.func.count()).select_from(InstalledProduct))
    yield f"catalogue: {len(CATEGORIES)} categories, {len(models)} models, {made_parts} new parts"
    yield f"customers: {made} new ({products} installed products in all)"
    yield f"knowledge base: {articles} new articles"

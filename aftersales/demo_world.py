"""A small, believable after-sales world for the demo, generated deterministically.

Product catalogue, outlets' service districts, engineers, parts, customers with installed
products. The same seed gives the same world, and running it again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.orm import Session

from engine.models import OrgUnit

from .customers import create_customer
from .models import (
    Customer,
    InstalledProduct,
    OutletProfile,
    Part,
    ProductCategory,
    ProductModel,
)
from .products import warranty_end

CATEGORIES = [
    ("AC", "空调", "Air conditioner", 36, ["KFR-26GW", "KFR-35GW", "KFR-72LW"]),
    ("FR", "冰箱", "Refrigerator", 36, ["BCD-216", "BCD-470", "BCD-610"]),
    ("WM", "洗衣机", "Washing machine", 36, ["XQG80-B1", "XQG100-D3", "XQB90-T2"]),
    ("WH", "热水器", "Water heater", 36, ["JSQ25-13", "DSZF-60", "JSQ30-16"]),
    ("TV", "电视", "Television", 12, ["55E3F", "65A6H", "75U8K"]),
    ("RH", "油烟机", "Range hood", 12, ["CXW-200", "CXW-260", "CXW-320"]),
    ("GS", "燃气灶", "Gas stove", 12, ["JZT-Q8", "JZT-Q9", "JZY-B5"]),
    ("WP", "净水器", "Water purifier", 12, ["MRO-400G", "MRO-600G", "MRO-800G"]),
]

ALL = ["AC", "FR", "WM", "WH", "TV", "RH", "GS", "WP"]
KITCHEN = ["RH", "GS", "WP", "WH"]
COOLING = ["AC", "FR", "WM", "TV"]

CENTERS = [
    ("C-EAST", "华东服务中心"),
    ("C-SOUTH", "华南服务中心"),
    ("C-NORTH", "华北服务中心"),
]


@dataclass(frozen=True)
class Outlet:
    code: str
    name: str
    center: str
    districts: list[str]  # "province/city/district", or "province/city" for the whole city
    categories: list[str]
    latitude: float
    longitude: float


OUTLETS = [
    Outlet(
        "O-SH-PD",
        "上海浦东网点",
        "C-EAST",
        ["上海市/上海市/浦东新区", "上海市/上海市/黄浦区"],
        ["AC", "FR", "WM", "WH", "TV"],
        31.2215,
        121.5447,
    ),
    Outlet(
        "O-SH-MH",
        "上海闵行网点",
        "C-EAST",
        ["上海市/上海市/闵行区", "上海市/上海市/徐汇区", "上海市/上海市"],
        ALL,
        31.1129,
        121.3817,
    ),
    Outlet(
        "O-HZ-XH",
        "杭州西湖网点",
        "C-EAST",
        ["浙江省/杭州市/西湖区", "浙江省/杭州市"],
        ["AC", "FR", "WM", "RH", "GS", "WP"],
        30.2599,
        120.1300,
    ),
    Outlet(
        "O-NJ-GL",
        "南京鼓楼网点",
        "C-EAST",
        ["江苏省/南京市/鼓楼区", "江苏省/南京市"],
        ALL,
        32.0663,
        118.7698,
    ),
    Outlet(
        "O-SZ-GS",
        "苏州姑苏网点",
        "C-EAST",
        ["江苏省/苏州市/姑苏区", "江苏省/苏州市"],
        COOLING,
        31.3116,
        120.6179,
    ),
    Outlet(
        "O-GZ-TH",
        "广州天河网点",
        "C-SOUTH",
        ["广东省/广州市/天河区", "广东省/广州市"],
        ["AC", "FR", "WM", "WH", "TV", "WP"],
        23.1246,
        113.3612,
    ),
    Outlet(
        "O-SZ-NS",
        "深圳南山网点",
        "C-SOUTH",
        ["广东省/深圳市/南山区", "广东省/深圳市"],
        ALL,
        22.5333,
        113.9305,
    ),
    Outlet(
        "O-FS-CC",
        "佛山禅城网点",
        "C-SOUTH",
        ["广东省/佛山市/禅城区", "广东省/佛山市"],
        ALL,
        23.0095,
        113.1224,
    ),
    Outlet(
        "O-XM-SM",
        "厦门思明网点",
        "C-SOUTH",
        ["福建省/厦门市/思明区", "福建省/厦门市"],
        COOLING + KITCHEN,
        24.4454,
        118.0823,
    ),
    Outlet(
        "O-BJ-HD",
        "北京海淀网点",
        "C-NORTH",
        ["北京市/北京市/海淀区", "北京市/北京市"],
        ALL,
        39.9593,
        116.2981,
    ),
    Outlet(
        "O-BJ-CY", "北京朝阳网点", "C-NORTH", ["北京市/北京市/朝阳区"], COOLING, 39.9215, 116.4435
    ),
    Outlet(
        "O-TJ-NK",
        "天津南开网点",
        "C-NORTH",
        ["天津市/天津市/南开区", "天津市/天津市"],
        ALL,
        39.1381,
        117.1502,
    ),
]

# Where the demo's customers live: the districts the outlets serve and a few more in their
# cities (served city-wide), with the district's rough centre.
REGIONS = {
    "上海市/上海市/浦东新区": (31.2215, 121.5447),
    "上海市/上海市/黄浦区": (31.2317, 121.4846),
    "上海市/上海市/闵行区": (31.1129, 121.3817),
    "上海市/上海市/徐汇区": (31.1885, 121.4365),
    "上海市/上海市/宝山区": (31.4045, 121.4894),
    "浙江省/杭州市/西湖区": (30.2599, 120.1300),
    "浙江省/杭州市/上城区": (30.2425, 120.1690),
    "江苏省/南京市/鼓楼区": (32.0663, 118.7698),
    "江苏省/南京市/玄武区": (32.0485, 118.7979),
    "江苏省/苏州市/姑苏区": (31.3116, 120.6179),
    "江苏省/苏州市/吴中区": (31.2625, 120.6321),
    "广东省/广州市/天河区": (23.1246, 113.3612),
    "广东省/广州市/越秀区": (23.1291, 113.2668),
    "广东省/深圳市/南山区": (22.5333, 113.9305),
    "广东省/深圳市/福田区": (22.5410, 114.0550),
    "广东省/佛山市/禅城区": (23.0095, 113.1224),
    "福建省/厦门市/思明区": (24.4454, 118.0823),
    "北京市/北京市/海淀区": (39.9593, 116.2981),
    "北京市/北京市/朝阳区": (39.9215, 116.4435),
    "天津市/天津市/南开区": (39.1381, 117.1502),
}


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


PART_NAMES = {
    "AC": [
        "压缩机",
        "启动电容",
        "室外风机",
        "室内风机",
        "电脑板",
        "遥控器",
        "四通阀",
        "温度传感器",
        "电子膨胀阀",
        "过滤网",
        "排水泵",
        "冷媒R32",
    ],
    "FR": [
        "压缩机",
        "温控器",
        "门封条",
        "化霜加热器",
        "风扇电机",
        "电脑板",
        "照明灯",
        "门铰链",
        "蒸发器",
        "感温头",
        "抽屉",
        "排水管",
    ],
    "WM": [
        "排水泵",
        "进水阀",
        "门锁",
        "电机",
        "皮带",
        "减震器",
        "电脑板",
        "门封圈",
        "轴承",
        "水位传感器",
        "加热管",
        "滚筒十字架",
    ],
    "WH": [
        "加热管",
        "温控器",
        "镁棒",
        "安全阀",
        "电脑板",
        "点火器",
        "水流传感器",
        "风机",
        "燃气比例阀",
        "混水阀",
        "漏电保护插头",
        "内胆",
    ],
    "TV": [
        "电源板",
        "主板",
        "背光灯条",
        "遥控器",
        "屏线",
        "喇叭",
        "逻辑板",
        "WiFi模块",
        "红外接收板",
        "底座",
        "按键板",
        "高频头",
    ],
    "RH": [
        "电机",
        "风轮",
        "油网",
        "止回阀",
        "电脑板",
        "照明灯",
        "开关面板",
        "油杯",
        "电容",
        "烟管",
        "集烟罩",
        "控制线",
    ],
    "GS": [
        "点火针",
        "电磁阀",
        "热电偶",
        "脉冲点火器",
        "炉头",
        "旋钮",
        "面板玻璃",
        "分火器",
        "进气管",
        "电池盒",
        "锅支架",
        "喷嘴",
    ],
    "WP": [
        "PP棉滤芯",
        "活性炭滤芯",
        "RO膜",
        "增压泵",
        "进水电磁阀",
        "废水比例阀",
        "高压开关",
        "低压开关",
        "电脑板",
        "龙头",
        "压力桶",
        "TDS探头",
    ],
}


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
    from engine.identity import SYSTEM_ACTOR

    from .demo_articles import ARTICLES
    from .knowledge import save_article
    from .models import KbArticle

    if session.scalar(sa.select(sa.func.count()).select_from(KbArticle)):
        return 0
    for title, category, model_codes, body in ARTICLES:
        save_article(
            session,
            title=title,
            body=body,
            category=category,
            models=model_codes,
            actor=SYSTEM_ACTOR,
        )
    session.flush()
    return len(ARTICLES)


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

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

# outlet code -> (districts it serves, categories it repairs)
OUTLET_AREAS = {
    "O-SH-PD": (["上海市/上海市/浦东新区", "上海市/上海市/黄浦区"], ["AC", "FR", "WM", "WH", "TV"]),
    "O-HZ-XH": (["浙江省/杭州市/西湖区", "浙江省/杭州市"], ["AC", "FR", "WM", "RH", "GS", "WP"]),
    "O-GZ-TH": (["广东省/广州市/天河区", "广东省/广州市"], ["AC", "FR", "WM", "WH", "TV", "WP"]),
}


@dataclass(frozen=True)
class Size:
    """How much the demo builds; tests that count things take ``Size.bare()``."""

    customers: int = 200
    orders: bool = True
    repair_orders: int = 5
    articles: bool = True
    seed: int = 20261123


def bare() -> Size:
    """The organisation, people and processes only: what page tests count on."""
    return Size(customers=0, orders=False, articles=False)


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
    for code, (districts, categories) in OUTLET_AREAS.items():
        unit = session.scalar(sa.select(OrgUnit).where(OrgUnit.code == code))
        if unit is None or session.get(OutletProfile, unit.id) is not None:
            continue
        session.add(
            OutletProfile(
                org_unit_id=unit.id,
                districts=districts,
                categories=categories,
                capacity=30,
                phone="400-800-" + str(1000 + unit.id),
                address=unit.name,
            )
        )
    session.flush()


def parts(session: Session, models: dict[str, ProductModel], rng: random.Random) -> None:
    if session.scalar(sa.select(sa.func.count()).select_from(Part)):
        return
    names = [
        "压缩机",
        "启动电容",
        "温控器",
        "电脑板",
        "排水泵",
        "门封条",
        "加热管",
        "遥控器",
        "风扇电机",
        "滤芯",
        "点火器",
        "电磁阀",
    ]
    for i in range(60):
        name = names[i % len(names)]
        fits = rng.sample(sorted(models), 3)
        session.add(
            Part(
                code=f"P-{1000 + i}",
                name=name,
                models=fits,
                price=Decimal(rng.randrange(15, 900)) + Decimal("0.00"),
            )
        )
    session.flush()


def customers(
    session: Session, models: dict[str, ProductModel], size: Size, rng: random.Random
) -> int:
    """Customers in the outlets' districts, each with one to three products."""
    have = session.scalar(sa.select(sa.func.count()).select_from(Customer)) or 0
    if have >= size.customers:
        return 0
    fake = Faker("zh_CN")
    fake.seed_instance(size.seed)
    regions = [d for districts, _ in OUTLET_AREAS.values() for d in districts if d.count("/") == 2]
    today = date.today()
    made = 0
    for i in range(have, size.customers):
        province, city, district = rng.choice(regions).split("/")
        phone = f"13{rng.randrange(0, 10)}{i:08d}"
        customer = create_customer(
            session,
            name=fake.name(),
            phone=phone,
            address={
                "province": province,
                "city": city,
                "district": district,
                "street": f"{fake.street_name()}{rng.randrange(1, 300)}号",
            },
        )
        customer.member_level = rng.choice(["none", "none", "silver", "gold", "platinum"])
        if customer.member_level != "none":
            customer.member_no = f"M{i:08d}"
        for j in range(rng.randrange(1, 4)):
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


ARTICLES = [
    (
        "空调不制冷怎么办",
        "空调",
        ["KFR-35GW", "KFR-26GW"],
        "1. 确认遥控器为制冷模式，设定温度低于室温。2. 清洗过滤网。3. 检查室外机是否运转；"
        "不转时多为启动电容或压缩机故障，需安排上门检修。",
    ),
    (
        "空调开机后室外机不转的原因",
        "空调",
        ["KFR-72LW"],
        "室外机不转常见原因：电源电压过低、启动电容损坏、室外风机故障、保护停机。请先断电五分钟后重启。",
    ),
    (
        "空调遥控器失灵如何处理",
        "空调",
        [],
        "更换电池，确认遥控器对准接收窗；仍无反应可使用机身应急开关，并预约更换遥控器。",
    ),
    (
        "冰箱冷藏室结霜的解决方法",
        "冰箱",
        ["BCD-216", "BCD-470"],
        "检查门封条是否密封良好，减少开门次数，食物放凉后再放入；霜层过厚需断电除霜。",
    ),
    (
        "冰箱不制冷但灯亮是什么原因",
        "冰箱",
        [],
        "多为温控器、压缩机或制冷剂泄漏故障。确认温控旋钮不在 0 档后仍不制冷，请安排上门检测。",
    ),
    (
        "洗衣机漏水怎么办",
        "洗衣机",
        ["XQG80-B1", "XQG100-D3"],
        "检查进水管接头是否拧紧、排水管是否破损、门封圈是否有异物；机身底部漏水需上门检修。",
    ),
    (
        "洗衣机不排水的原因",
        "洗衣机",
        [],
        "排水管弯折或堵塞、排水泵有异物。清理底部过滤器后重试，仍不排水请报修。",
    ),
    (
        "热水器不加热如何处理",
        "热水器",
        ["DSZF-60"],
        "确认电源与漏电保护插头正常，检查温度设定；加热指示灯不亮多为加热管或温控器故障。",
    ),
    (
        "燃气灶打不着火的解决方法",
        "燃气灶",
        [],
        "检查气阀是否打开、电池是否有电、点火针是否潮湿或脏污；仍打不着请关闭气阀并报修。",
    ),
    (
        "油烟机吸力变小怎么办",
        "油烟机",
        ["CXW-200"],
        "清洗油网和风轮，检查止回阀是否卡住、烟管是否过长或弯折。",
    ),
    (
        "净水器出水变慢的原因",
        "净水器",
        ["MRO-400G"],
        "滤芯到期堵塞或进水压力不足。按提示更换滤芯，检查进水阀是否全开。",
    ),
    (
        "电视有声音没有图像如何处理",
        "电视",
        [],
        "确认信号源选择正确，重新插拔 HDMI 线；背光不亮需上门检修。",
    ),
]


def knowledge(session: Session) -> int:
    """A dozen knowledge-base answers for the most common faults, written once."""
    from engine.identity import SYSTEM_ACTOR

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
    parts(session, models, rng)
    made = customers(session, models, size, rng)
    articles = knowledge(session) if size.articles else 0
    session.commit()
    yield f"catalogue: {len(CATEGORIES)} categories, {len(models)} models"
    yield f"customers: {made} new"
    yield f"knowledge base: {articles} new articles"

"""The after-sales domain, one folder per concept: customers, products, outlets, orders (with
their service types and the case record), dispatch, knowledge, settings, demo.

Importing it puts every table of the domain on the engine's metadata (one migration chain
holds all). It registers its service-task operations with the engine and never reaches into
it beyond the engine's public commands and queries.
"""

from aftersales.customers import models as _customers  # noqa: F401
from aftersales.knowledge import models as _knowledge  # noqa: F401
from aftersales.orders import models as _orders  # noqa: F401
from aftersales.outlets import models as _outlets  # noqa: F401
from aftersales.products import models as _products  # noqa: F401
from aftersales.settings import models as _settings  # noqa: F401


def install() -> None:
    """Register the domain's service-task operations (web, worker, command line, tests), the
    case variables a completed task keeps, service types as a kind of deployed file, the
    order's status following its instance's, and the rule that an order type's process
    starts only by opening an order, and the form widgets that name its records."""
    from aftersales import operations, widgets
    from aftersales.orders import type_deployment
    from aftersales.orders.case_context import CASE_CONTEXT
    from aftersales.orders.service import mirror_status, opened_with_an_order
    from engine import business_status, projection
    from engine.identity import register_start_guard

    operations.register()
    widgets.register()
    type_deployment.install()
    business_status.on_change(mirror_status)
    projection.show_on_completion(CASE_CONTEXT)
    register_start_guard(opened_with_an_order)

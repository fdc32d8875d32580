"""The after-sales domain: customers, products, outlets, engineers, parts, orders, knowledge.

It registers its service-task operations with the engine and never reaches into it beyond
the engine's public commands and queries.
"""


def install() -> None:
    """Register the domain's service-task operations (web, worker, command line, tests), the
    case variables a completed task keeps, and the rule that an order type's process starts
    only by opening an order."""
    from engine import projection
    from engine.identity import register_start_guard

    from . import operations
    from .case_context import CASE_CONTEXT
    from .orders import opened_with_an_order

    operations.register()
    projection.show_on_completion(CASE_CONTEXT)
    register_start_guard(opened_with_an_order)

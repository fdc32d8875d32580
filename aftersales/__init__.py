"""The after-sales domain: customers, products, outlets, engineers, parts, orders, knowledge.

It registers its service-task operations with the engine and never reaches into it beyond
the engine's public commands and queries.
"""


def install() -> None:
    """Register the domain's service-task operations (web, worker, command line, tests)."""
    from . import operations

    operations.register()

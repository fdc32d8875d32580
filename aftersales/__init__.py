"""The after-sales domain: customers, products, outlets, engineers, parts, orders, knowledge.

It registers its service-task operations with the engine and never reaches into it beyond
the engine's public commands and queries.
"""


def install() -> None:
    """Register the domain's service-task operations (web, worker, command line, tests) and
    the case variables a completed task keeps."""
    from engine import projection

    from . import operations
    from .case_context import CASE_CONTEXT

    operations.register()
    projection.show_on_completion(CASE_CONTEXT)

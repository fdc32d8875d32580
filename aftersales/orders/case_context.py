"""The variables of an order's process that a task page shows beside its form: who the
customer is, what they own and what went wrong. A completion snapshots them with the
submitted data (``engine.projection.show_on_completion``), so whoever completed the task
still sees what it showed after the order has left their scope."""

from __future__ import annotations

CASE_CONTEXT = (
    "customer_name",
    "phone",
    "customer_phone",
    "address",
    "product_model",
    "fault_description",
    "order_number",
    "serial",
)

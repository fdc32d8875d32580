"""The form widgets whose value names a record of the domain, registered with the forms.

A completion is refused with an error on the field when its value names no such record the
person completing may pick: a mistyped outlet in manual dispatch is a field error on the
form, not a failed dispatch step. The pickers of the staff UI offer the same records.
"""

from __future__ import annotations

from aftersales.knowledge.service import unknown_articles
from aftersales.outlets.service import unknown_outlets
from aftersales.products.service import unknown_parts
from forms.widgets import register_check

CHECKS = {
    "outlet": (
        unknown_outlets,
        ("没有这个网点，请从列表中选择", "No such outlet: pick one from the list"),
    ),
    "part": (
        unknown_parts,
        ("没有这个备件编码，请从列表中选择", "No such part: pick one from the list"),
    ),
    "kb_article": (
        unknown_articles,
        ("没有这篇知识库文章，请从列表中选择", "No such article: pick one from the list"),
    ),
}


def register() -> None:
    for widget, (check, message) in CHECKS.items():
        register_check(widget, check, message)

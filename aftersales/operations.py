"""Every service-task operation of the domain, registered with the engine.

Each concept keeps its own (``OPERATIONS`` in its ``operations`` module). Each runs in the
transaction of the command whose step calls it (``command_session``) and acts on the order of
the instance that calls it (``orders.service.of_this_instance``): no parameter names an
order, so a process started with variables that name another order, or a form that smuggles
a number in, cannot reach it.
"""

from __future__ import annotations

from aftersales.dispatch.operations import OPERATIONS as DISPATCH
from aftersales.orders.operations import OPERATIONS as ORDERS
from aftersales.outlets.operations import OPERATIONS as OUTLETS
from aftersales.products.operations import OPERATIONS as PRODUCTS
from aftersales.settings.operations import OPERATIONS as SETTINGS
from engine.services import OperationRegistry
from engine.services import registry as default_registry


def register(registry: OperationRegistry = default_registry) -> None:
    for operations in (DISPATCH, ORDERS, OUTLETS, PRODUCTS, SETTINGS):
        for name, operation in operations.items():
            registry.register(name, operation)

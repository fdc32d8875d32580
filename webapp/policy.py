"""Who may call each route: one declared table, enforced before any view runs.

Every endpoint of the app (UI pages, the JSON API, static files) has an entry in ``ROUTES``
naming its ``Policy`` (anonymous, any signed-in user, or a named group of roles) and whether
it is *scoped*: the view applies the caller's data scope to the objects it touches (an
out-of-scope object answers 404). ``enforce`` runs before every request:

- an endpoint missing from the table is refused with 403, so a new route cannot be forgotten
  (``tests/security/test_route_policy.py`` also fails on it);
- API endpoints authenticate the bearer token (401 JSON) and answer a wrong role with 403 JSON;
- UI pages send an anonymous visitor to the sign-in page and a wrong role to the 403 page.

What depends on the object (scope, task ownership, who may start which process, which setting
a role may change) stays in the views and engine commands. Each refusal is sent on the
``refused`` signal (endpoint, actor name or None, reason) and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from blinker import Namespace
from flask import Flask, abort, current_app, request
from flask_login import current_user

from aftersales.customers import editing as customer_editing
from aftersales.customers import imports as customer_imports
from aftersales.knowledge import service as knowledge
from aftersales.settings import service as settings
from engine.identity import Actor

log = logging.getLogger(__name__)
refused = Namespace().signal("route-refused")

# the people who run or supervise outlets: readers of the dispatch board and outlet records
SERVICE_ROLES = frozenset({"center_staff", "outlet_manager", "team_lead", "manager", "agent"})


@dataclass(frozen=True)
class Policy:
    """Who may call a route: ``allows(actor)``; ``anonymous`` needs no sign-in at all."""

    name: str
    description: str
    allows: Callable[[Actor], bool]
    anonymous: bool = False


ANYONE = Policy("anonymous", "anyone, signed in or not", lambda actor: True, anonymous=True)
SIGNED_IN = Policy("signed_in", "any signed-in user", lambda actor: True)
ADMIN = Policy("admin", "administrators", lambda actor: actor.is_admin)
DESIGNER = Policy("designer", "process designers and administrators", lambda a: a.may_deploy)
MONITOR = Policy(
    "monitor", "managers, process designers, team leads and administrators", lambda a: a.may_monitor
)
OPERATOR = Policy("operator", "managers and administrators", lambda a: a.may_operate)
SERVICE_STAFF = Policy(
    "service_staff",
    "center staff, outlet managers, team leads, managers, agents and administrators",
    lambda a: a.is_admin or bool(SERVICE_ROLES & a.roles),
)
KB_EDITOR = Policy("kb_editor", "knowledge editors and administrators", knowledge.may_edit)
SETTINGS = Policy(
    "settings",
    "those who may change a setting (team leads, managers, administrators)",
    lambda a: any(settings.may_change(a, name) for name in settings.SETTINGS),
)
CUSTOMER_EDITOR = Policy(
    "customer_editor",
    "the call center (agents, team leads) and administrators",
    customer_editing.may_edit,
)
CUSTOMER_IMPORTER = Policy(
    "customer_importer", "team leads and administrators", customer_imports.may_import
)
POLICIES = (
    ANYONE,
    SIGNED_IN,
    ADMIN,
    DESIGNER,
    MONITOR,
    OPERATOR,
    SERVICE_STAFF,
    KB_EDITOR,
    SETTINGS,
    CUSTOMER_EDITOR,
    CUSTOMER_IMPORTER,
)


@dataclass(frozen=True)
class Access:
    """A route's entry: its policy, and whether the view applies the caller's data scope."""

    policy: Policy
    scoped: bool = False


def _a(policy: Policy, *, scoped: bool = False) -> Access:
    return Access(policy, scoped)


OPEN = _a(ANYONE)
ANY_USER = _a(SIGNED_IN)
IN_SCOPE = _a(SIGNED_IN, scoped=True)

ROUTES: dict[str, Access] = {
    "static": OPEN,
    # ---- the staff UI: signing in, the layout's forms, health -------------------------
    "ui.login": OPEN,
    "ui.logout": OPEN,  # an expired session may still sign out
    "ui.set_locale": OPEN,  # the sign-in page has the language switch
    "ui.healthz": OPEN,
    "ui.home": ANY_USER,
    "ui.profile": ANY_USER,
    "ui.set_time_zone": ANY_USER,  # the signed-in user's own zone
    "ui.create_token": ANY_USER,
    "ui.revoke_token": ANY_USER,  # the view refuses another user's token
    # ---- work: inbox, tasks, processes, orders ------------------------------------------
    "ui.inbox": IN_SCOPE,
    "ui.save_filter": ANY_USER,
    "ui.delete_filter": ANY_USER,  # the view refuses another user's filter
    "ui.task_page": IN_SCOPE,
    "ui.claim_task": IN_SCOPE,
    "ui.claim_next_task": IN_SCOPE,  # the best task of the user's own queues
    "ui.unclaim_task": IN_SCOPE,
    "ui.assign_task": IN_SCOPE,  # the engine decides who may assign whom
    "ui.complete_task_page": IN_SCOPE,
    "ui.comment_task": IN_SCOPE,
    "ui.picker": IN_SCOPE,
    "ui.attachment": IN_SCOPE,
    "ui.startable": ANY_USER,  # lists what the user may start
    "ui.start_form": ANY_USER,  # the view checks who may start the process
    "ui.start_process": ANY_USER,
    "ui.instances": IN_SCOPE,
    "ui.export_instances": IN_SCOPE,
    "ui.instance_page": IN_SCOPE,
    "ui.engineer_jobs": IN_SCOPE,
    # ---- the call center ----------------------------------------------------------------
    "ui.incoming_call": IN_SCOPE,
    "ui.new_caller": ANY_USER,  # the domain decides which roles create customers
    "ui.new_request": IN_SCOPE,
    "ui.customer_page": IN_SCOPE,
    "ui.customer_edit": _a(CUSTOMER_EDITOR, scoped=True),
    "ui.customer_save": _a(CUSTOMER_EDITOR, scoped=True),
    "ui.customer_phone": _a(CUSTOMER_EDITOR, scoped=True),
    "ui.customer_address": _a(CUSTOMER_EDITOR, scoped=True),
    "ui.customer_product": _a(CUSTOMER_EDITOR, scoped=True),
    "ui.customer_imports": _a(CUSTOMER_IMPORTER),
    "ui.upload_customer_import": _a(CUSTOMER_IMPORTER),
    "ui.customer_import_page": _a(CUSTOMER_IMPORTER, scoped=True),
    "ui.order_page": IN_SCOPE,
    # ---- service staff: the dispatch board and outlets -------------------------------------
    "ui.dispatch_board": _a(SERVICE_STAFF, scoped=True),
    "ui.board_export": _a(SERVICE_STAFF, scoped=True),
    "ui.outlet_list": _a(SERVICE_STAFF, scoped=True),
    "ui.outlet_page": _a(SERVICE_STAFF, scoped=True),
    # ---- knowledge base -------------------------------------------------------------------
    "ui.kb_search": ANY_USER,
    "ui.kb_article": ANY_USER,  # an inactive article only for editors (the view)
    "ui.kb_suggest": ANY_USER,
    "ui.kb_new": _a(KB_EDITOR),
    "ui.kb_edit": _a(KB_EDITOR),
    # ---- operating instances ----------------------------------------------------------------
    "ui.instance_action": _a(OPERATOR, scoped=True),
    "ui.terminate_instance": _a(OPERATOR, scoped=True),
    "ui.retry_incident": _a(OPERATOR, scoped=True),
    "ui.edit_variables": _a(OPERATOR, scoped=True),
    "ui.move_token": _a(OPERATOR, scoped=True),
    "ui.migration_page": _a(OPERATOR, scoped=True),
    "ui.migrate_instance": _a(OPERATOR, scoped=True),
    "ui.batch_migration_page": _a(OPERATOR, scoped=True),
    "ui.run_batch_migration": _a(OPERATOR, scoped=True),
    "ui.migration_batch_page": _a(OPERATOR, scoped=True),
    "ui.cancel_migration_batch": _a(OPERATOR, scoped=True),
    # ---- monitoring (流程监控) --------------------------------------------------------------
    "ui.definitions": _a(MONITOR, scoped=True),
    "ui.definition_page": _a(MONITOR, scoped=True),
    "ui.definition_source": _a(MONITOR),
    "ui.definition_diff": _a(MONITOR),
    "ui.sla": _a(MONITOR, scoped=True),
    # ---- design: deploying, the modeler, decision tables, forms ----------------------------
    "ui.deploy_files": _a(DESIGNER),
    "ui.modeler_page": _a(DESIGNER),
    "ui.modeler_deploy": _a(DESIGNER),
    "ui.decision_editor": _a(DESIGNER),
    "ui.deploy_decision": _a(DESIGNER),
    "ui.admin_forms": _a(DESIGNER),
    "ui.admin_form_edit": _a(DESIGNER),
    "ui.admin_form_preview": _a(DESIGNER),
    "ui.admin_form_download": _a(DESIGNER),
    "ui.admin_form_diff": _a(DESIGNER),
    "ui.service_types_page": _a(DESIGNER),
    "ui.new_service_type": _a(DESIGNER),
    "ui.service_type_page": _a(DESIGNER),
    "ui.save_service_type": _a(DESIGNER),
    # ---- administration and settings ---------------------------------------------------------
    "ui.admin_org": _a(ADMIN),
    "ui.admin_org_save": _a(ADMIN),
    "ui.admin_org_import": _a(ADMIN),
    "ui.admin_users": _a(ADMIN),
    "ui.admin_users_save": _a(ADMIN),
    "ui.admin_users_import": _a(ADMIN),
    "ui.admin_survey": _a(ADMIN),
    "ui.admin_survey_item": _a(ADMIN),
    "ui.admin_survey_binding": _a(ADMIN),
    "ui.settings_page": _a(SETTINGS),
    "ui.settings_save": _a(SETTINGS),
    # ---- the JSON API -------------------------------------------------------------------------
    "api.openapi_document": OPEN,
    "api.create_deployment": _a(DESIGNER),
    "api.get_definitions": ANY_USER,
    "api.grant_start": _a(ADMIN),
    "api.start_instance": ANY_USER,  # the engine checks who may start the process
    "api.list_instances": IN_SCOPE,
    "api.get_instance": IN_SCOPE,
    "api.get_history": IN_SCOPE,
    "api.suspend": _a(OPERATOR, scoped=True),
    "api.resume": _a(OPERATOR, scoped=True),
    "api.terminate": _a(OPERATOR, scoped=True),
    "api.set_variables": _a(OPERATOR, scoped=True),
    "api.move": _a(OPERATOR, scoped=True),
    "api.migrate": _a(OPERATOR, scoped=True),
    "api.start_batch": _a(OPERATOR, scoped=True),
    "api.read_batch": _a(OPERATOR, scoped=True),
    "api.cancel_batch": _a(OPERATOR, scoped=True),
    "api.retry": _a(OPERATOR, scoped=True),
    "api.correlate": IN_SCOPE,
    "api.list_tasks": IN_SCOPE,
    "api.get_task": IN_SCOPE,
    "api.claim": IN_SCOPE,
    "api.unclaim": IN_SCOPE,
    "api.assign": IN_SCOPE,
    "api.complete": IN_SCOPE,
    "api.find_customers": IN_SCOPE,
    "api.read_customer": IN_SCOPE,
    "api.customer_changes": IN_SCOPE,
    "api.patch_customer": _a(CUSTOMER_EDITOR, scoped=True),
    "api.add_customer_phone": _a(CUSTOMER_EDITOR, scoped=True),
    "api.remove_customer_phone": _a(CUSTOMER_EDITOR, scoped=True),
    "api.primary_customer_phone": _a(CUSTOMER_EDITOR, scoped=True),
    "api.add_customer_address": _a(CUSTOMER_EDITOR, scoped=True),
    "api.patch_customer_address": _a(CUSTOMER_EDITOR, scoped=True),
    "api.remove_customer_address": _a(CUSTOMER_EDITOR, scoped=True),
    "api.primary_customer_address": _a(CUSTOMER_EDITOR, scoped=True),
    "api.patch_customer_product": _a(CUSTOMER_EDITOR, scoped=True),
    "api.post_order": IN_SCOPE,
    "api.read_order": IN_SCOPE,
    "api.list_service_types": ANY_USER,
    "api.kb_search": ANY_USER,
    "api.kb_article": ANY_USER,
    "api.kb_create": _a(KB_EDITOR),
}


def routes(app: Flask | None = None) -> dict[str, Access]:
    """The table in force for ``app`` (the declared one plus what ``declare`` added)."""
    return (app or current_app).extensions["csm_routes"]


def declare(app: Flask, endpoint: str, access: Access) -> None:
    """Add a route the app gains after ``create_app`` (test pages, plug-ins)."""
    routes(app)[endpoint] = access


def _is_api() -> bool:
    return "api" in request.blueprints


def _refuse(endpoint: str, actor: Actor | None, reason: str) -> None:
    log.info("refused %s %s for %s: %s", request.method, endpoint, actor and actor.username, reason)
    refused.send(current_app._get_current_object(), endpoint=endpoint, actor=actor, reason=reason)


def _forbidden(endpoint: str, actor: Actor | None, reason: str):  # noqa: ANN202
    from .api.errors import ApiError

    _refuse(endpoint, actor, reason)
    if _is_api():
        raise ApiError(403, "forbidden", "you may not call this endpoint", {"policy": reason})
    abort(403)


def _caller() -> Actor | None:
    """The authenticated actor, None for an anonymous UI visitor; 401 for the API."""
    if _is_api():
        from .api.auth import current_actor
        from .api.errors import ApiError

        try:
            return current_actor()
        except ApiError:
            _refuse(request.endpoint or "", None, "not authenticated")
            raise
    return current_user.actor if current_user.is_authenticated else None


def enforce():  # noqa: ANN201
    """The before-request check; returns the sign-in redirect or raises 401/403."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no such route: the 404 or 405 answers
    access = routes().get(endpoint)
    if access is None:
        return _forbidden(endpoint, None, "undeclared route")
    if access.policy.anonymous:
        return None
    actor = _caller()
    if actor is None:
        _refuse(endpoint, None, "not signed in")
        return current_app.login_manager.unauthorized()
    if not access.policy.allows(actor):
        return _forbidden(endpoint, actor, access.policy.name)
    return None


def may_call(endpoint: str) -> bool:
    """Whether the signed-in user may call ``endpoint`` (for links in templates)."""
    access = routes().get(endpoint)
    if access is None:
        return False
    if access.policy.anonymous:
        return True
    if not current_user.is_authenticated:
        return False
    return access.policy.allows(current_user.actor)


def init_app(app: Flask) -> None:
    app.extensions["csm_routes"] = dict(ROUTES)
    app.before_request(enforce)
    app.jinja_env.globals["may_call"] = may_call

"""Roles by the names people use for them (no raw role ids in the Chinese UI)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from . import bp

ROLE_NAMES = {
    "agent": _l("Call-center agent"),
    "team_lead": _l("Team lead"),
    "complaint_supervisor": _l("Complaint supervisor"),
    "responsible_department": _l("Responsible department"),
    "center_staff": _l("Service center staff"),
    "outlet_manager": _l("Outlet manager"),
    "engineer": _l("Engineer"),
    "warehouse": _l("Warehouse"),
    "finance": _l("Finance"),
    "manager": _l("Manager"),
    "process_designer": _l("Process designer"),
    "knowledge_editor": _l("Knowledge editor"),
    "admin": _l("Administrator"),
}


@bp.app_template_global("role_name")
def role_name(role: str) -> str:
    name = ROLE_NAMES.get(role)
    return str(name) if name is not None else role


GROUP_NAMES = {
    "agents": _l("Call-center agents"),
    "team_leads": _l("Team leads"),
    "centers": _l("Service centers"),
    "depots": _l("Depot repair"),
    "outlets": _l("Outlets"),
    "outlet_managers": _l("Outlet managers"),
    "engineers": _l("Engineers"),
    "departments": _l("Responsible departments"),
    "complaints": _l("Complaints desk"),
    "warehouse": _l("Warehouse"),
    "finance": _l("Finance"),
    "managers": _l("Managers"),
}


@bp.app_template_global("group_name")
def group_name(groups: str | None) -> str:
    """A candidate group (or a comma-separated list of them) by the names people use."""
    names = [g.strip() for g in (groups or "").split(",") if g.strip()]
    return "、".join(str(GROUP_NAMES.get(g, g)) for g in names)

"""The staff web UI: HTML pages under the site root (no url_prefix).

Page modules register their routes on ``bp`` and are imported at the bottom of this file.
Who may call each page is declared in ``webapp/policy.py`` (a new route needs an entry there);
the views check only what depends on the object (scope, task ownership).
``init_app`` registers the blueprint, the template helpers and the HTML error pages; call it
after the API's error handlers are registered (see ``webapp.ui.errors``).
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import generate_csrf

from ..pickers import PICKERS
from . import helpers

bp = Blueprint("ui", __name__)


def _current_user() -> object:
    """Flask-Login's current user, or an anonymous one while Flask-Login is not set up."""
    if hasattr(current_app, "login_manager"):
        from flask_login import current_user

        return current_user
    return AnonymousUserMixin()


def init_app(app: Flask) -> None:
    from . import errors

    app.register_blueprint(bp)
    errors.register(app)
    app.jinja_env.globals.setdefault("csrf_token", generate_csrf)
    app.jinja_env.globals.update(
        pagination_info=helpers.pagination_info,
        url_for_page=helpers.url_for_page,
        current_path=helpers.current_path,
        reload_url=helpers.reload_url,
        is_overdue=helpers.is_overdue,
        command_label=helpers.command_label,
        instance_status_label=helpers.instance_status_label,
        batch_status_label=helpers.batch_status_label,
        data_label=helpers.data_label,
        PICKER_WIDGETS=tuple(PICKERS),
    )
    app.jinja_env.filters["priority_level"] = helpers.priority_level

    @app.context_processor
    def _ui_context() -> dict:
        return {"current_user": _current_user()}


from . import (  # noqa: E402,F401  (routes register themselves on bp)
    admin_views,
    auth_views,
    batch_migration,
    board_pages,
    call_pages,
    case_view,
    customer_pages,
    decision_pages,
    design_pages,
    engineer_pages,
    import_pages,
    inbox,
    instance_actions,
    kb_pages,
    modeler_pages,
    monitor_pages,
    outlet_pages,
    process_names,
    process_pages,
    role_names,
    service_type_pages,
    settings_pages,
    system,
    task_pages,
    uploads,
)

"""The Flask application: the JSON API now, the staff UI from issue 4 on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.db import install_sqlite_pragmas

from .extensions import db


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides what the environment gives (tests pass theirs)."""
    from . import assets

    assets.require()
    from . import config as config_module

    app = Flask(__name__, instance_path=str(config_module.instance_dir()))

    app.config.from_mapping(config_module.from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise config_module.ConfigError(config_module.MISSING_KEY)
    if app.config.get("PROXY_FIX"):
        # the client's address, scheme and host as the trusted proxies report them
        app.wsgi_app = ProxyFix(app.wsgi_app, **app.config["PROXY_FIX"])
    db.init_app(app)
    import aftersales
    from forms.binding import install

    install()
    aftersales.install()
    with app.app_context():
        install_sqlite_pragmas(db.engine)

    from .api.ids import IdConverter

    app.url_map.converters["id"] = IdConverter
    from .api import bp as api_bp
    from .api.errors import register_error_handlers

    app.register_blueprint(api_bp)
    register_error_handlers(app)

    from . import auth, headers, i18n, policy, throttle, times, ui

    headers.init_app(app)
    auth.init_app(app)
    auth.csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    i18n.init_app(app)
    times.init_app(app)  # the user's time zone and the datetime and duration filters
    ui.init_app(app)  # after the API's error handlers: HTML error pages outside /api/
    throttle.init_app(app)  # after the sign-in page is registered: it limits that page
    policy.init_app(app)  # who may call each route, checked before any view runs

    from . import timers

    timers.init_app(app)
    return app

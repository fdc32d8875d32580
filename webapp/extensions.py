"""Flask extensions, bound to the app in ``create_app``.

Tables are the engine's (and later the domain's) declarative models; Flask-SQLAlchemy only
provides the request-scoped session and the configured engine.
"""

from flask_sqlalchemy import SQLAlchemy

from engine.models import Base

db = SQLAlchemy(metadata=Base.metadata)

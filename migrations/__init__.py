"""The Alembic migrations; this folder installs as the package ``csm_migrations``
(pyproject.toml), so an installed product can upgrade its database."""

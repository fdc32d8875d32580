"""The security tests' world: the demo organisation, people and the product's processes, on
SQLite and PostgreSQL, built once per backend and test process and copied for each test (see
tests/worlds.py), so each test still starts from a fresh database of its own."""

from __future__ import annotations

from tests.worlds import world  # noqa: F401  (the fixture)

"""What this test run has: the repository's files, the PostgreSQL server that DATABASE_URL
names (when it names one), and whether it runs in CI (where a skipped test fails the run)."""

from __future__ import annotations

import os
from pathlib import Path

BPMN_DIR = Path(__file__).resolve().parent / "bpmn"
REPO_DIR = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("DATABASE_URL", "")
HAS_PG = PG_URL.startswith(("postgres://", "postgresql"))
IN_CI = bool(os.environ.get("CI"))

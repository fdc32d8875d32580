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

# what opening a repair order needs deployed: its process, the process and decisions it
# calls, its service type and start form (paths relative to the repository)
REPAIR_FILES = (
    "bpmn/repair.bpmn",
    "bpmn/service_fee.dmn",
    "bpmn/visit_fee.dmn",
    "bpmn/dispatch.bpmn",
    "bpmn/repair.service.json",
    "forms/repair_request.form.json",
)

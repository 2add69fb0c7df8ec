"""The load test, as a test (opt-in: it takes a minute and starts its own servers).

MHFA_RUN_LOAD_TEST=1 .venv/bin/pytest tests/security/test_load.py
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.environ.get("MHFA_RUN_LOAD_TEST"), reason="set MHFA_RUN_LOAD_TEST=1 to run"),
]


@pytest.mark.parametrize("faults", [False, True], ids=["steady", "faults"])
def test_load_with_and_without_faults_keeps_every_rule(faults):
    if faults and not shutil.which("pg_ctl") and not shutil.which("pg_config"):
        pytest.skip("needs PostgreSQL's server binaries to start a throwaway server")
    args = [sys.executable, str(ROOT / "scripts/loadtest.py"), "--clients", "50", "--requests", "800",
            "--seconds", "60", *(["--faults"] if faults else [])]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=ROOT)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
    assert figures["clients"] >= 50 and figures["overbooked_courses"] == 0 and figures["emails_lost"] == 0
    assert figures["emails_duplicated"] == 0 and figures["confirmed_missing"] == 0


def test_a_short_soak_reports_each_route_and_the_workers_memory():
    args = [sys.executable, str(ROOT / "scripts/loadtest.py"), "--soak", "--minutes", "1", "--clients", "8",
            "--workers", "2"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=ROOT)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout[:result.stdout.rindex("}") + 1])
    assert {"booking", "course page", "dashboard", "verification", "finder page"} <= set(figures["p95_ms_by_route"])
    assert figures["server_errors"] == 0 and figures["overbooked_courses"] == 0
    assert figures["worker_memory"]["grew"] is False and figures["worker_memory"]["start_total_mb"] > 0

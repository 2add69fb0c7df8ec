"""The forecasting script's whole run at programme scale, backtests included, as a user runs it.

``flask mhfa forecast --out DIR`` in a child process (the series from the database, every candidate
model, the rolling-origin backtest, 5,000 simulated paths, the area forecasts, the outputs and the
stored run), timed from start to exit, beside the same command's ``--help`` (the cost of starting
Python and the app, which every run pays).
"""
from __future__ import annotations

import tempfile
import time

from benchmarks.harness import Context, Figure

NAME = "forecast"
BUDGET_SECONDS = 10


def run(ctx: Context) -> list[Figure]:
    began = time.perf_counter()
    ctx.flask("mhfa", "forecast", "--help")
    start_only = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = ctx.flask("mhfa", "forecast", "--out", out, check=False)
        seconds = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(f"the forecast failed:\n{result.stdout}\n{result.stderr}")
    return [Figure("forecast, whole run with backtests", f"{seconds:.1f} s", f"app start alone {start_only:.1f} s",
                   f"< {BUDGET_SECONDS} s", seconds < BUDGET_SECONDS)]

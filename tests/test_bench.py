"""scripts/bench.py keeps each scale's figures and writes every scale side by side in docs/benchmarks.md."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_script", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(people: int, figures: list[tuple[str, str, str, str, str]], names=("demo_data", "finder")) -> dict:
    return {"people": people, "seed": 2017, "measured_at": "2026-12-06 20:00 UTC", "benchmarks": list(names),
            "machine": "2 cores (test)",
            "figures": [{"name": n, "value": v, "baseline": b, "target": t, "verdict": d, "notes": [f"{n} note"],
                         "measured_at": "2026-12-06 20:00 UTC"} for n, v, b, t, d in figures]}


def test_scales_stand_side_by_side_each_beside_its_baseline_keeping_the_hand_written_part(bench, tmp_path):
    results = tmp_path / "results"
    bench.save_result(bench.results_path(results, 500_000), _result(500_000, [
        ("demo-data build, 500,000 people", "85 s, peak 762 MB", "COPY 5 s", "< 120 s", "met"),
        ("finder page p50 / p95", "8.8 / 17.5 ms", "bare SQL 0.9 / 3.3 ms", "p95 < 20 ms", "met"),
        ("course page p50 / p95", "5.0 / 6.4 ms", "", "", ""),
    ]))
    bench.save_result(bench.results_path(results, 5_000_000), _result(5_000_000, [
        ("demo-data build, 5,000,000 people", "900 s, peak 900 MB", "COPY 50 s", "< 1,200 s", "met"),
        ("finder page p50 / p95", "9.1 / 25.0 ms", "bare SQL 1.0 / 3.9 ms", "p95 < 20 ms", "MISSED"),
    ]))
    out = tmp_path / "benchmarks.md"
    out.write_text(f"# Old table\n\n| stale |\n{bench.HAND_WRITTEN}\n\n## Written by hand\n\nKept as it was.\n")
    bench.write_markdown(bench.load_results(results), out)

    text = out.read_text()
    assert "| stale |" not in text and text.endswith(f"{bench.HAND_WRITTEN}\n\n## Written by hand\n\nKept as it was.\n")
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")]
    assert rows[0] == ["figure", "500,000 people", "baseline (same run)", "target",
                       "5,000,000 people", "baseline (same run)", "target"]
    by_label = {r[0]: r[1:] for r in rows[2:]}
    assert list(by_label) == ["demo-data build", "finder page p50 / p95", "course page p50 / p95"]
    assert by_label["demo-data build"] == ["85 s, peak 762 MB", "COPY 5 s", "< 120 s — met",
                                           "900 s, peak 900 MB", "COPY 50 s", "< 1,200 s — met"]
    assert by_label["finder page p50 / p95"][3:] == ["9.1 / 25.0 ms", "bare SQL 1.0 / 3.9 ms", "p95 < 20 ms — MISSED"]
    assert by_label["course page p50 / p95"] == ["5.0 / 6.4 ms", "", "", "", "", ""]  # not measured at 5,000,000
    assert text.index("At 500,000 people") < text.index("At 5,000,000 people")
    assert "Notes at 5,000,000 people:" in text and "- finder page p50 / p95: finder page p50 / p95 note" in text


def test_a_run_of_some_benchmarks_replaces_only_its_own_figures(bench, tmp_path):
    path = bench.results_path(tmp_path, 500_000)
    bench.save_result(path, _result(500_000, [("finder page p50 / p95", "8.8 / 17.5 ms", "bare", "", ""),
                                              ("booking API throughput", "125 bookings/s", "2,099/s", "", "")],
                                    names=("finder", "booking")))
    rerun = _result(500_000, [("booking API throughput", "600 bookings/s", "2,100/s", "", "")], names=("booking",))
    rerun["figures"][0]["measured_at"] = "2026-12-06 21:00 UTC"
    kept = bench.save_result(path, rerun)
    assert kept == json.loads(path.read_text())
    assert [(f["name"], f["value"]) for f in kept["figures"]] == [
        ("finder page p50 / p95", "8.8 / 17.5 ms"), ("booking API throughput", "600 bookings/s")]
    assert kept["benchmarks"] == ["finder", "booking"]
    out = tmp_path / "benchmarks.md"
    bench.write_markdown(bench.load_results(tmp_path), out)
    assert "measured 2026-12-06 20:00 UTC to 2026-12-06 21:00 UTC" in out.read_text()


def test_compare_rewrites_the_table_from_the_kept_figures_and_reuse_is_the_default(bench, tmp_path, capsys):
    results = tmp_path / "results"
    bench.save_result(bench.results_path(results, 20_000), _result(20_000, [("forecast", "5 s", "1 s", "", "")]))
    out = tmp_path / "benchmarks.md"
    assert bench.main(["--compare", "--results", str(results), "--out", str(out)]) == 0
    assert "| forecast |" in out.read_text().replace("  ", "")
    with pytest.raises(SystemExit):
        bench.main(["--reuse", "--rebuild"])  # one or the other
    with pytest.raises(SystemExit):
        bench.main(["--compare", "--results", str(tmp_path / "none"), "--out", str(out)])
    capsys.readouterr()


def test_the_scale_leaves_a_figures_name(bench):
    assert bench.row_label("demo-data build, 5,000,000 people") == "demo-data build"
    assert bench.row_label("finder page p50 / p95") == "finder page p50 / p95"
    assert bench.row_label("completing a course of 16") == "completing a course of 16"


def test_the_demo_build_target_follows_the_people_and_its_memory_stays_under_two_gigabytes():
    from benchmarks.demo_data import budget

    assert budget(20_000) == (120, 1024)
    assert budget(500_000) == (120, 1024)
    assert budget(5_000_000) == (1200, 2048)  # 20 minutes and 2 GB

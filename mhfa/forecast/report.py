"""The run's files: forecast.csv, summary.json and forecast.png (a fan chart readable in greyscale)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

CSV_COLUMNS = ["month", "area", "median", "lower_80", "upper_80", "lower_95", "upper_95"]


def write_outputs(forecast, directory: str | Path) -> dict[str, Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "forecast.csv", "summary": out / "summary.json", "chart": out / "forecast.png"}
    with paths["csv"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(forecast.rows)
    paths["summary"].write_text(json.dumps(forecast.summary, indent=2) + "\n", encoding="utf-8")
    fan_chart(forecast, paths["chart"])
    return paths


def fan_chart(forecast, path: Path) -> None:
    """Actual cumulative reach, the required straight line, the forecast median, 80% and 95% bands, the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    programme = forecast.programme
    history = forecast.history
    band_frame = pd.DataFrame(forecast.bands)
    actual_x = [month.end_time.normalize().to_pydatetime() for month in history.index]
    future_x = [pd.Period(month, freq="M").end_time.normalize().to_pydatetime() for month in band_frame["month"]]
    # Start the bands at the last actual month so the fan opens from the line.
    fan_x = [actual_x[-1], *future_x]
    last = int(history.iloc[-1])

    def series(column):
        return [last, *band_frame[column].tolist()]

    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=110)
    ax.fill_between(fan_x, series("lower_95"), series("upper_95"), color="0.85", label="95% interval", linewidth=0)
    ax.fill_between(fan_x, series("lower_80"), series("upper_80"), color="0.65", label="80% interval", linewidth=0)
    ax.plot(fan_x, series("median"), color="0.25", linestyle="--", linewidth=2, label="Forecast (median)")
    ax.plot(actual_x, history.tolist(), color="black", linewidth=2.4, label="Reached so far")
    required_x = [pd.Timestamp(programme.start).to_pydatetime(), pd.Timestamp(programme.end).to_pydatetime()]
    ax.plot(required_x, [0, programme.target_people], color="0.4", linestyle=":", linewidth=1.8,
            label="Required trajectory")
    ax.axhline(programme.target_people, color="black", linewidth=0.9, linestyle="-.",
               label=f"Target {programme.target_people:,}")
    ax.axvline(pd.Timestamp(programme.end).to_pydatetime(), color="0.5", linewidth=0.8)
    summary = forecast.summary
    ax.set_title(f"Cumulative people reached, data to {summary['as_of']}: "
                 f"{summary['probability_of_target']:.0%} chance of the target by {summary['target']['deadline']}",
                 fontsize=10)
    ax.set_ylabel("People reached (cumulative)")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.grid(axis="y", color="0.9")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)

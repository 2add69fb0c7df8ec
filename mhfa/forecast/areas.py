"""Council areas: forecasts that add up to the total, and each area's share of its pro-rata target.

Reconciliation is top-down from the same simulated paths as the total: each simulated path of the
total flow is split among the areas by shares drawn, once per path, from a Dirichlet distribution
whose weights are each area's newly reached people over the last 12 months plus one half (Jeffreys
prior). So, path by path, the areas add up exactly to the total, an area's uncertainty includes the
uncertainty of its share, and an area with long runs of zeros gets a small share instead of a model
fitted to zeros.

Each area in the target region has a pro-rata target: the programme's target times its population
aged 16 and over (all ages where no 16+ figure is loaded) over the region's.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa.areas.models import AgeGroup, AreaPopulation, CouncilArea
from mhfa.areas.services import COUNCIL_AREAS_CSV, latest_populations
from mhfa.extensions import db
from mhfa.forecast.series import Series
from mhfa.forecast.simulate import Outlook

SHARE_MONTHS = 12


@dataclass(frozen=True)
class Region:
    """The areas the target covers, with the population each area's share is computed from."""

    populations: dict[str, int]
    basis: str

    def targets(self, target: int) -> dict[str, int]:
        total = sum(self.populations.values())
        if not total:
            return {}
        return {name: int(round(target * population / total)) for name, population in self.populations.items()}


def region_from_database() -> Region:

    populations = latest_populations(prefer_16_plus=True)
    areas = db.session.execute(
        sa.select(CouncilArea.id, CouncilArea.name).where(CouncilArea.in_target_region)
    ).all()
    has_16 = db.session.scalar(
        sa.select(sa.func.count()).select_from(AreaPopulation).where(AreaPopulation.age_group == AgeGroup.AGED_16_PLUS)
    )
    basis = "population aged 16 and over" if has_16 else "all-ages population (no aged-16+ figures loaded)"
    return Region({name: populations[area_id] for area_id, name in areas if populations.get(area_id)}, basis)


def region_from_reference() -> Region:
    """The bundled reference file's target region (Census 2021, all ages): for runs on a CSV."""

    with COUNCIL_AREAS_CSV.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle)
                if row["in_target_region"] == "yes" and row["population_census_2021"]]
    return Region({row["name"]: int(row["population_census_2021"]) for row in rows},
                  "Census 2021 all-ages population (bundled reference data)")


def shares(series: Series) -> pd.Series:
    """Each area's share of newly reached people over the last 12 months (the Dirichlet weights)."""
    recent = series.flow.iloc[-SHARE_MONTHS:].sum(axis=0).astype(float) + 0.5
    return recent / recent.sum()


def reconcile(outlook: Outlook, series: Series, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Cumulative paths per area, shape ``(repetitions, horizon)``, adding up to the total's paths."""
    weights = series.flow.iloc[-SHARE_MONTHS:].sum(axis=0).to_numpy(dtype=float) + 0.5
    draws = rng.dirichlet(weights, size=outlook.flow.shape[0])  # (repetitions, areas)
    added = outlook.cumulative - outlook.reached                # (repetitions, horizon)
    so_far = series.flow.sum(axis=0)
    return {
        area: so_far[area] + draws[:, i:i + 1] * added
        for i, area in enumerate(series.areas)
    }


def _quantiles(values: np.ndarray) -> dict:
    low95, low80, median, high80, high95 = np.quantile(values, (0.025, 0.1, 0.5, 0.9, 0.975), axis=0)
    return {"median": median, "lower_80": low80, "upper_80": high80, "lower_95": low95, "upper_95": high95}


def area_rows(area_paths: dict[str, np.ndarray], months: pd.PeriodIndex) -> list[dict]:
    """forecast.csv rows for the areas: cumulative reach per month, median and bands."""
    rows = []
    for area, paths in area_paths.items():
        figures = _quantiles(paths[:, :len(months)])
        for i, month in enumerate(months):
            rows.append({"month": month.strftime("%Y-%m"), "area": area,
                         **{key: int(round(values[i])) for key, values in figures.items()}})
    return rows


def area_summaries(area_paths: dict[str, np.ndarray], series: Series, region: Region, *, target: int,
                   deadline_column: int | None) -> list[dict]:
    """Per area: reached so far, projected at the deadline, pro-rata target and projected share of it."""
    targets = region.targets(target)
    current_shares = shares(series)
    so_far = series.flow.sum(axis=0)
    out = []
    for area, paths in area_paths.items():
        reached = int(so_far[area])
        if deadline_column is None:
            at_deadline = {key: reached for key in ("median", "lower_80", "upper_80", "lower_95", "upper_95")}
            values = np.array([reached])
        else:
            values = paths[:, deadline_column]
            at_deadline = {key: int(round(value)) for key, value in _quantiles(values).items()}
        area_target = targets.get(area)
        out.append({
            "area": area,
            "reached_so_far": reached,
            "share_of_recent_flow": round(float(current_shares[area]), 4),
            "at_deadline": at_deadline,
            "pro_rata_target": area_target,
            "projected_share_of_target": round(at_deadline["median"] / area_target, 4) if area_target else None,
            "probability_of_area_target": round(float(np.mean(values >= area_target)), 4) if area_target else None,
        })
    return out

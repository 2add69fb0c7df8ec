"""The monthly series the forecast is made from: newly reached people per month and council area.

Two sources give the same shape (a ``Series``): the database (:func:`from_database`, one bare SQL
query over the raw rows) and a CSV of ``month,council_area,new_people`` (:func:`from_csv`), so
anyone can run the forecast on their own figures.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa import dates
from mhfa.areas.models import CouncilArea
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.reach import counted

UNKNOWN_AREA = "Unknown"


@dataclass(frozen=True)
class Series:
    """Newly reached people per month (rows, a monthly ``PeriodIndex``) and council area (columns)."""

    flow: pd.DataFrame
    source: str

    @property
    def months(self) -> pd.PeriodIndex:
        return self.flow.index

    @property
    def total(self) -> np.ndarray:
        return self.flow.sum(axis=1).to_numpy(dtype=float)

    @property
    def areas(self) -> list[str]:
        return list(self.flow.columns)

    @property
    def last_month(self) -> pd.Period | None:
        return self.flow.index[-1] if len(self.flow.index) else None

    @property
    def reached(self) -> int:
        """Cumulative reach at the end of the series."""
        return int(self.flow.to_numpy().sum())

    def cut(self, as_of: pd.Period | str | None) -> Series:
        """The series up to and including the month ``as_of`` (for backtests and --as-of)."""
        if as_of is None:
            return self
        as_of = parse_month(as_of) if isinstance(as_of, str) else as_of
        return Series(self.flow.loc[self.flow.index <= as_of], self.source)


def parse_month(text: str, *, line: int | None = None) -> pd.Period:
    """``2024-03`` (or a date in that month, ``2024-03-31``) as a monthly period."""
    where = f"line {line}: " if line else ""
    value = (text or "").strip()
    try:
        day = date.fromisoformat(value + "-01" if len(value) == 7 else value)
    except ValueError:
        raise DomainError(f"{where}month must look like 2024-03 (got {value[:20]!r})", field="month") from None
    if not dates.PROGRAMME.contains(day):
        raise DomainError(f"{where}month must be between {dates.PROGRAMME.earliest:%Y-%m} and "
                          f"{dates.PROGRAMME.last():%Y-%m} (got {value[:20]!r})", field="month")
    return pd.Period(day, freq="M")


def last_complete_month(today: date) -> pd.Period:
    """The month before ``today``'s: the current month is still being counted."""
    return pd.Period(today, freq="M") - 1


def from_frame(rows: pd.DataFrame, source: str, *, through: pd.Period | None = None,
               areas: list[str] | None = None) -> Series:
    """Shape long rows (``month`` as Period, ``council_area``, ``new_people``) into a ``Series``.

    Months with nobody reached are filled with zeros from the first month with anyone to
    ``through`` (default: the last month given); ``areas`` are columns even when always zero.
    """
    if through is not None:
        rows = rows[rows["month"] <= through]
    if rows.empty or rows["new_people"].sum() == 0:
        if through is None:
            return Series(pd.DataFrame(index=pd.PeriodIndex([], freq="M"), columns=areas or [], dtype=int), source)
        start = through if rows.empty else rows["month"].min()
    else:
        start = rows.loc[rows["new_people"] > 0, "month"].min()
    end = through if through is not None else rows["month"].max()
    table = rows.pivot_table(index="month", columns="council_area", values="new_people", aggfunc="sum", fill_value=0)
    columns = sorted(set(table.columns) | set(areas or []), key=lambda name: (name == UNKNOWN_AREA, name))
    index = pd.period_range(start, end, freq="M")
    flow = table.reindex(index=index, columns=columns, fill_value=0).fillna(0).astype(int)
    flow.index.name = "month"
    flow.columns.name = "council_area"
    return Series(flow, source)


def from_csv(path: str | Path, *, through: pd.Period | None = None) -> Series:
    """Read ``month,council_area,new_people`` (one row per month and area); any bad row refuses the file."""
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    needed = {"month", "council_area", "new_people"}
    if not reader.fieldnames or not needed <= {name.strip() for name in reader.fieldnames}:
        raise DomainError(f"{path}: the header must include month,council_area,new_people", field="input")
    records, problems = [], []
    for line, row in enumerate(reader, start=2):
        row = {key.strip(): (value or "").strip() for key, value in row.items() if key}
        try:
            month = parse_month(row["month"], line=line)
        except DomainError as error:
            problems.append(error.message)
            continue
        try:
            people = int(row["new_people"])
        except ValueError:
            problems.append(f"line {line}: new_people must be a whole number (got {row['new_people']!r})")
            continue
        if people < 0:
            problems.append(f"line {line}: new_people cannot be negative")
            continue
        records.append((month, row["council_area"] or UNKNOWN_AREA, people))
    if problems:
        raise DomainError(f"{path}: " + "; ".join(problems[:20]), field="input")
    rows = pd.DataFrame(records, columns=["month", "council_area", "new_people"])
    return from_frame(rows, str(path), through=through)


def from_database(through: pd.Period, *, connection=None) -> Series:
    """Newly reached people per month and home council area: the people counted toward the target
    (target region plus area not known), read through ``mhfa.reach.counted`` so the forecast starts from
    the same figure as the dashboard. Every council area of the target region is a column (zeros
    included), plus "Unknown" when anyone has no home area.
    """
    bind = connection if connection is not None else db.session
    names = dict(bind.execute(sa.select(CouncilArea.id, CouncilArea.name)).all())
    through_key = through.year * 100 + through.month
    rows = pd.DataFrame(
        [(pd.Period(year=month // 100, month=month % 100, freq="M"),
          names.get(area, UNKNOWN_AREA) if area != counted.UNKNOWN_AREA else UNKNOWN_AREA, n)
         for month, area, n in counted.home_month_area(through_key, connection=connection)],
        columns=["month", "council_area", "new_people"],
    )
    areas = list(bind.execute(sa.select(CouncilArea.name).where(CouncilArea.in_target_region.is_(True))).scalars())
    return from_frame(rows, "database", through=through, areas=areas)

"""The outcomes section of the board's dashboard, its downloads and the public page's region-level figures.

Every figure is read from the kept sums (``keeping.py``), each equal to the count over the raw answers
(``tests/outcomes/bare.py``, which the property tests compare them with): a count, a mean with its 95%
interval (normal approximation: mean ± 1.96 × standard deviation ÷ √n), or a share. Groups are suppressed
as reach's tables are (``mhfa.reach.dashboard.suppress``: a group answered by 1 to 9 people is hidden, and
a second group with it when one alone could be recovered from the total); a hidden group shows no figure
derived from its answers, and no rate is shown beside a hidden count (``Figures.shown_*``). The funnel's
total and each of its rows (by course type, by month) are suppressed alike (``shown_funnel``,
``shown_funnel_rows``) on the dashboard, the page, its downloads and the API. Evaluations and follow-ups
are attributed by the completion's month (the period filter), its course type (awareness types left out
when the filters leave them out), the course's funding stream, and the person's record (area where they
live, equality answers); answers unlinked by erasure stay in every total and under "Not known".
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.courses.models import CourseType, FundingStream
from mhfa.extensions import db
from mhfa.outcomes import firstaiders, keeping
from mhfa.outcomes.funnel import STEP_LABELS, STEPS, Funnel, Step, funnel, kept_rows
from mhfa.outcomes.kept_tables import MONTH_VALUES
from mhfa.outcomes.models import (
    EVALUATION,
    OutcomeArea,
    OutcomeGroupMonth,
    OutcomeMonth,
    OutcomeTypeMonth,
)
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Sex
from mhfa.reach.counts import Filters
from mhfa.reach.dashboard import FEWER_THAN_10, GROUP_LABELS, SMALL, Table, month_label, suppress
from mhfa.reach.models import UNKNOWN_AREA
from mhfa.shares import Share
from mhfa.timeutil import london_today, utcnow

Z_95 = 1.96
NOT_KNOWN = "Not known"
DIMENSIONS = ("area", "course_type", "funding_stream", "sex", "age_band", "ethnic_group", "disability")
DIMENSION_TITLES = {"area": "Council area (where they live)", "course_type": "Course type",
                    "funding_stream": "Funding stream", "sex": "Sex", "age_band": "Age band",
                    "ethnic_group": "Ethnic group", "disability": "Disability"}
SCORES = ("confidence_before", "confidence_now", "signposting_before", "signposting_now")


@dataclass
class Mean:
    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% interval of the mean (None below two answers)."""
        if self.n < 2:
            return None
        variance = max((self.squares - self.total * self.total / self.n) / (self.n - 1), 0.0)
        half = Z_95 * math.sqrt(variance / self.n)
        return (self.mean - half, self.mean + half)


@dataclass
class Figures:
    """One group's outcome figures, each from the raw rows."""

    invited: int = 0
    answered: int = 0
    follow_ups: int = 0
    follow_ups_answered: int = 0
    good: int = 0
    rated: int = 0
    used: int = 0
    use_answered: int = 0

    def __post_init__(self):
        self.scores: dict[str, Mean] = {key: Mean(0, 0.0, 0.0) for key in SCORES}

    share = staticmethod(Share.of)  # 4 decimals in data, its counts kept for the page's percentage

    @property
    def response_rate(self) -> float | None:
        return self.share(self.answered, self.invited)

    @property
    def good_share(self) -> float | None:
        return self.share(self.good, self.rated)

    @property
    def follow_up_response_rate(self) -> float | None:
        return self.share(self.follow_ups_answered, self.follow_ups)

    @property
    def use_rate(self) -> float | None:
        return self.share(self.used, self.use_answered)

    # What is shown: a count of 1 to 9 answers as "fewer than 10", and no figure that would reveal one.

    @property
    def shown_answered(self) -> int | str:
        return mark(self.answered)

    @property
    def shown_invited(self) -> int | str:
        return mark(self.invited)

    @property
    def shown_follow_ups(self) -> int | str:
        return mark(self.follow_ups)

    @property
    def shown_response_rate(self) -> float | None:
        return self.response_rate if isinstance(self.shown_answered, int) else None

    @property
    def shown_follow_ups_answered(self) -> int | str:
        return mark(self.follow_ups_answered)

    @property
    def shown_follow_up_response_rate(self) -> float | None:
        return self.follow_up_response_rate if isinstance(self.shown_follow_ups_answered, int) else None

    @property
    def shown_use_rate(self) -> float | None:
        """The share who used their skills, from 10 answers to the question (none below)."""
        return self.use_rate if self.use_answered >= SMALL else None

    @property
    def shown_good_share(self) -> float | None:
        """The share rating the course good or very good, from 10 ratings (none below)."""
        return self.good_share if self.rated >= SMALL else None

    def shown_mean(self, key: str) -> Mean:
        """A score's mean, from 10 answers to the question (an empty Mean below)."""
        mean = self.scores[key]
        return mean if mean.n >= SMALL else Mean(0, 0.0, 0.0)


def mark(n: int) -> int | str:
    """A count as reach shows it: 1 to 9 is "fewer than 10"."""
    return FEWER_THAN_10 if 0 < n < SMALL else n


def suppress_beside(counts: list[int], hidden: list[bool]) -> list:
    """Reach's suppression (``mhfa.reach.dashboard.suppress``) of a column whose total is shown, where the rows
    ``hidden`` are not shown anyway: 1 to 9 is "fewer than 10", and when one cell alone would be hidden the
    smallest other one is hidden too."""
    hide = [h or 0 < n < SMALL for n, h in zip(counts, hidden, strict=True)]
    if sum(hide) == 1:
        shown = [i for i, h in enumerate(hide) if not h]
        if shown:
            hide[min(shown, key=lambda i: (counts[i] == 0, counts[i], i))] = True
    return [(FEWER_THAN_10 if 0 < n < SMALL else "hidden") if h else n for n, h in zip(counts, hide, strict=True)]


def _labels(dimension: str) -> list[tuple[object, str]]:
    """Every group of a dimension, in order, with its label (and "Not known")."""
    if dimension == "area":
        areas = db.session.scalars(sa.select(CouncilArea).order_by(CouncilArea.in_target_region.desc(),
                                                                   CouncilArea.name))
        return [(a.id, a.name) for a in areas] + [(UNKNOWN_AREA, "Unknown")]
    if dimension == "course_type":
        return [(t.id, t.name) for t in db.session.scalars(sa.select(CourseType).order_by(CourseType.name))]
    enum = {"funding_stream": FundingStream, "sex": Sex, "age_band": AgeBand, "ethnic_group": EthnicGroup,
            "disability": Disability}[dimension]
    named = GROUP_LABELS[dimension][1] if dimension in GROUP_LABELS else {}  # as the reach dashboard names them
    return [(member.value, named.get(member.value) or getattr(member, "label", member.value)) for member in enum] \
        + [(None, NOT_KNOWN)]


def _fmt_mean(mean: Mean) -> tuple:
    if mean.mean is None:
        return (None, None, None)
    low_high = mean.interval or (None, None)
    return (round(mean.mean, 2), *(round(v, 2) if v is not None else None for v in low_high))


COLUMNS = ["Group", "Invited to evaluate", "Answered", "Response rate",
           "Confidence before (mean)", "before: 95% low", "before: 95% high",
           "Confidence now (mean)", "now: 95% low", "now: 95% high",
           "Rated good or very good", "Follow-ups sent", "Follow-ups answered", "Follow-up response rate",
           "Used their skills (six months on)"]


def _row(label: str, f: Figures, shown, invited: int | str | None = None, follow_ups: int | str | None = None,
         follow_ups_answered: int | str | None = None) -> list:
    """A table row; when the group is suppressed only its label, the numbers invited and sent a follow-up and the
    suppression marks (answered, follow-ups answered) show. ``invited``, ``follow_ups`` and ``follow_ups_answered``:
    those counts as shown (default: the count); a rate shows only when both its counts do."""
    invited = f.invited if invited is None else invited
    follow_ups = f.follow_ups if follow_ups is None else follow_ups
    if not isinstance(shown, int):
        hidden_follow_ups = follow_ups_answered if isinstance(follow_ups_answered, str) else \
            (FEWER_THAN_10 if 0 < f.follow_ups_answered < SMALL else "hidden")
        return [label, invited, shown, *[None] * 8, follow_ups, hidden_follow_ups, None, None]
    follow_ups_answered = f.shown_follow_ups_answered if follow_ups_answered is None else follow_ups_answered
    both = isinstance(invited, int)
    follow_both = isinstance(follow_ups, int) and isinstance(follow_ups_answered, int)
    return [label, invited, shown, f.response_rate if both else None, *_fmt_mean(f.shown_mean("confidence_before")),
            *_fmt_mean(f.shown_mean("confidence_now")), f.shown_good_share, follow_ups, follow_ups_answered,
            f.follow_up_response_rate if follow_both else None,
            f.shown_use_rate if isinstance(follow_ups_answered, int) else None]


def outcomes_table(dimension: str, filters: Filters | None = None) -> Table:
    """Outcomes by one dimension (from the kept sums), with reach's suppression on the number who answered."""
    figures = kept_group_figures(dimension, filters)
    labels = _labels(dimension)
    known = {key for key, _ in labels}
    extra = [k for k in figures if k not in known]  # e.g. an enum value no longer listed
    groups = labels + [(k, str(k)) for k in extra]
    rows = [figures.get(key, Figures()) for key, _ in groups]
    shown = suppress([f.answered for f in rows])
    answers_hidden = [not isinstance(m, int) for m in shown]
    follow_answered = suppress_beside([f.follow_ups_answered for f in rows], answers_hidden)
    # The numbers invited and sent a follow-up too: the number invited is the number who completed, which the
    # funnel suppresses.
    invited, follow_ups = suppress([f.invited for f in rows]), suppress([f.follow_ups for f in rows])
    table = Table(f"outcomes-{dimension}", f"Outcomes by {DIMENSION_TITLES[dimension].lower()}", COLUMNS,
                  note=OUTCOMES_RULE + " " + INVITED_RULE)
    for i, (_key, label) in enumerate(groups):
        table.rows.append(_row(label, rows[i], shown[i], invited[i], follow_ups[i], follow_answered[i]))
    return table


OUTCOMES_RULE = ("The answers of groups answered by fewer than 10 people are suppressed (and one more group where a "
                 "total would reveal them): their scores, rates and number answered. The same for the follow-ups "
                 "answered. A count from 1 to 9 shows as 'fewer than 10', one hidden so that no hidden count can be "
                 "worked out from the total as 'hidden'; a rate shows only when both its counts do, and a mean or "
                 "share from 10 answers to its question. Means are on the 0 to 10 scale, with a 95% interval.")
INVITED_RULE = ("The numbers invited (every completion is invited) and sent a follow-up are suppressed the same "
                "way.")


def summary(filters: Filters | None = None) -> Figures:
    """The whole programme's figures under the filters, from the kept sums (each equal to its raw count)."""
    return kept_figures(filters)


def kept_figures(filters: Filters | None = None, areas: set[int] | None = None) -> Figures:
    """Figures summed from ``outcome_month`` (the completion's month, the person's home area, the course type), or
    without an area from ``outcome_type_month``: a few kept rows whatever the size of the programme. ``areas``:
    only these home area keys."""
    filters = filters or Filters()
    by_area = filters.area is not None or areas is not None
    m = OutcomeMonth if by_area else OutcomeTypeMonth  # all areas together: a few hundred rows
    return _kept_groups(m, None, filters, areas=areas).get("all", Figures())


def kept_group_figures(dimension: str, filters: Filters | None = None) -> dict:
    """Each group's Figures of a dimension of the outcomes page, from the kept sums (each equal to
    its raw count): by area or course type from ``outcome_month`` (``outcome_type_month`` by course type
    when no area is chosen), by the other groups from ``outcome_group_month``."""
    filters = filters or Filters()
    if dimension == "area":
        return _kept_groups(OutcomeMonth, "area", filters)
    if dimension == "course_type":
        return _kept_groups(OutcomeMonth if filters.area is not None else OutcomeTypeMonth, "course_type_id", filters)
    return _kept_groups(OutcomeGroupMonth, "value", filters, dimension=dimension)


def _filtered(m, query: sa.Select, shape: tuple) -> sa.Select:
    """``query`` over the kept table ``m`` under one shape of filters (see :func:`_shape`), its values parameters."""
    since, until, typed, awareness, by_area, among_areas, by_dimension = shape
    if since:
        query = query.where(m.month >= sa.bindparam("start_month"))
    if until:
        query = query.where(m.month <= sa.bindparam("end_month"))
    if typed:
        query = query.where(m.course_type_id.in_(sa.bindparam("type_ids", expanding=True)))
    if not awareness:
        query = query.where(m.course_type_id.not_in(sa.select(CourseType.id).where(CourseType.is_awareness.is_(True))))
    if by_area:
        query = query.where(m.area == sa.bindparam("area"))
    if among_areas:
        query = query.where(m.area.in_(sa.bindparam("areas", expanding=True)))
    if by_dimension:
        query = query.where(m.dimension == sa.bindparam("dimension"))
    return query


def _shape(filters: Filters, areas: set[int] | None = None, dimension: str | None = None) -> tuple[tuple, dict]:
    """The shape of the filters (which of them are set) and their values, as the kept statements take them."""
    shape = (bool(filters.start_month), bool(filters.end_month), bool(filters.course_type_ids),
             bool(filters.include_awareness), filters.area is not None, areas is not None, dimension is not None)
    params = {"start_month": filters.start_month, "end_month": filters.end_month, "area": filters.area,
              "type_ids": sorted(filters.course_type_ids or ()), "areas": sorted(areas or ()), "dimension": dimension}
    return shape, params


@functools.cache
def _groups_statement(m, group_name: str | None, shape: tuple) -> sa.Select:
    """The sums of :func:`_kept_groups` for one shape of filters, built once: its values are parameters."""
    group = sa.literal("all") if group_name is None else getattr(m, group_name)
    query = sa.select(group, m.kind, *(sa.func.sum(getattr(m, name)) for name in MONTH_VALUES)).group_by(group, m.kind)
    return _filtered(m, query, shape)


def _kept_groups(m, group_name: str | None, filters: Filters, *, areas: set[int] | None = None,
                 dimension: str | None = None) -> dict:
    """Each group's Figures (``group_name``: a column of ``m``, or None for one group "all") under the filters,
    ``areas`` (only these home area keys) and ``dimension`` (of ``outcome_group_month``)."""
    keeping.settled(db.session())
    shape, params = _shape(filters, areas, dimension)
    sums: dict = {}
    for key, kind, *values in db.session.execute(_groups_statement(m, group_name, shape), params):
        key = None if key == "" else key
        values = dict(zip(MONTH_VALUES, (int(v or 0) for v in values), strict=True))
        figures, totals = sums.setdefault(key, (Figures(), dict.fromkeys(MONTH_VALUES, 0)))
        if kind == EVALUATION:
            figures.invited += values["invited"]
            figures.answered += values["answered"]
        else:
            figures.follow_ups += values["invited"]
            figures.follow_ups_answered += values["answered"]
        for name in MONTH_VALUES[2:]:
            totals[name] += values[name]
    return {key: _with_totals(figures, totals) for key, (figures, totals) in sums.items()}


def _with_totals(figures: Figures, totals: dict) -> Figures:
    """``figures`` with the scores, ratings and use of skills of ``totals`` (sums of ``MONTH_VALUES[2:]``)."""
    for q in SCORES:
        figures.scores[q] = Mean(totals[f"{q}_n"], float(totals[f"{q}_sum"]), float(totals[f"{q}_sq"]))
    figures.rated, figures.good = totals["rated"], totals["good"]
    figures.use_answered, figures.used = totals["use_answered"], totals["used"]
    return figures


FUNNEL_RULE = ("Counts from 1 to 9 are shown as 'fewer than 10'. The number completed is shown (it is the number "
               "invited to evaluate); a later step 1 to 9 places fewer than the last step shown before it, and an "
               "earlier step 1 to 9 places more than the next step shown after it, are shown as 'hidden' (the "
               "places lost between them could be worked out). Where only one cell of a step would be hidden among "
               "the rows and the total (the course type table's last row, the same for both tables), the next "
               "smallest row's is hidden too, so no hidden count can be worked out from the total less the other "
               "rows. A rate is shown only when both its counts are.")


FUNNEL_BY = {"home": "by where the trainee lives", "work": "by where the trainee works",
             "delivery": "by where the course was held"}


def funnel_tables(filters: Filters, today: date | None = None) -> list[Table]:
    shown = shown_funnels(funnel(filters, today))
    columns = ["Group", *[STEP_LABELS[s] for s in STEPS], "No-show rate", "Completion rate"]

    def row(label, step: FunnelShown):
        return [label, *[mark_ for _, _, mark_ in step.steps], step.no_show_rate, step.completion_rate]

    by_type = Table("funnel", "From booked to certified, by course type", columns,
                    note="A place is a confirmed booking on a course that has started; the period is the course's "
                         "start month. No-show rate: booked but at no session. Completion rate: completed of those "
                         "who attended. With a council area chosen, places are counted "
                         f"{FUNNEL_BY[filters.basis]} (the outcomes tables count answers by where people live). "
                         + FUNNEL_RULE)
    total = "All chosen course types" if filters.course_type_ids else "All course types"
    by_type.rows = [row(t.name, s) for t, s in shown.by_course_type] + [row(total, shown.total)]
    by_month = Table("funnel-months", "From booked to certified, by month", columns, note=FUNNEL_RULE)
    by_month.rows = [row(month_label(k), s) for k, s in shown.by_month]
    return [by_type, by_month]


FIRST_AIDERS_BY = {"home": "by where they live", "work": "by where they work",
                   "delivery": "by where they live (a certificate has no area where its course was held)"}


def shown_first_aiders(basis: str = "home", today: date | None = None) -> list[tuple[firstaiders.AreaRow, int | str]]:
    """Each area's current first aiders today on the basis (where they live, or work; where they live for any
    other), with the count as shown: 1 to 9 is "fewer than 10", and one more "hidden" where the total would
    reveal it."""
    rows = firstaiders.area_rows(today or london_today(), "work" if basis == "work" else "home")  # kept for today
    return list(zip(rows, suppress([r.current for r in rows]), strict=True))


def first_aider_tables(basis: str = "home", today: date | None = None, area: int | None = None) -> list[Table]:
    """Current first aiders by area on the basis (where they live, or work), and at each month's end (in ``area``
    when one is chosen, on the same basis). By where they work there is no rate per 1,000: the population is the
    area's residents, not the people working there."""
    today = today or london_today()
    work = basis == "work"
    shown = shown_first_aiders(basis, today)
    rows = [r for r, _ in shown]
    columns = ["Council area", "GSS code", "Current first aiders", "Population", "Population (year, ages)"]
    rates = [] if work else ["Per 1,000 of the population", "1 in N of the population"]
    population = ("Population: the area's latest published figure for its residents aged 16 and over (all ages "
                  "where 16+ is not published; the column says which)")
    by_area = Table("first-aiders", "Current first aiders by council area", columns + rates,
                    note="People holding a certificate that is issued, not revoked and not expired today (whatever the "
                         "period and course types chosen), counted once "
                         f"each, {FIRST_AIDERS_BY.get(basis, FIRST_AIDERS_BY['home'])}; certificates of attendance "
                         f"from awareness courses are not counted. An area's count from 1 to 9 shows as 'fewer than "
                         f"10', and one more as 'hidden' where the total would reveal it. {population}"
                         + ("; shown for scale only: no rate per 1,000 is given, as people counted where they work "
                            "are not the area's residents." if work else "."))
    by_area.rows = [[r.name, r.gss_code, mark, r.population, r.population_label,
                     *([] if work else ([r.per_1000, r.one_in] if isinstance(mark, int) else [None, None]))]
                    for r, mark in shown]
    by_area.rows.append(["All areas", "", sum(r.current for r in rows), None, "", *[None] * len(rates)])
    where = "" if area is None else " whose area is not known" if area == UNKNOWN_AREA else next(
        (f" in {r.name}" for r in rows if r.key == area), "")
    counted_by = FIRST_AIDERS_BY.get(basis, FIRST_AIDERS_BY["home"])
    trend = Table("first-aiders-trend", f"Current first aiders{where} at the end of each month",
                  ["Month", "Current first aiders"],
                  note="This month: today." + ("" if area is None else f" Counted {counted_by}; a month's count "
                                                                        "from 1 to 9 shows as 'fewer than 10'."))
    counts = firstaiders.trend(24, today, area=area, basis="work" if work else "home")
    trend.rows = [[month_label(k), n if area is None else mark(n)] for k, n in counts]
    return [by_area, trend]


def all_tables(filters: Filters, today: date | None = None) -> list[Table]:
    return ([outcomes_table(d, filters) for d in DIMENSIONS] + funnel_tables(filters, today)
            + first_aider_tables(filters.basis, today, filters.area))


#: Figures from fewer answers than this are not shown (reach's suppression threshold).
SHOWN_FROM = 10


@dataclass
class FunnelShown:
    """The funnel's total as the dashboard shows it: each step's count, or why it is not shown, and the rates
    whose two counts are both shown."""

    steps: list[tuple[str, str, int | str]]  # (step, label, count or FEWER_THAN_10 / "hidden")
    no_show_rate: float | None
    completion_rate: float | None
    certified_rate: float | None = None
    current_rate: float | None = None

    def shown(self, name: str) -> int | str:
        return next(mark_ for step, _, mark_ in self.steps if step == name)

    def as_dict(self) -> dict:
        """As the API gives it: a hidden count is null, with why (as the tables show it) under ``suppressed``."""
        return {**{name: n if isinstance(n, int) else None for name, _, n in self.steps},
                "no_show_rate": self.no_show_rate, "completion_rate": self.completion_rate,
                "certified_rate": self.certified_rate, "current_rate": self.current_rate,
                "suppressed": {name: n for name, _, n in self.steps if not isinstance(n, int)}}


#: The step whose count is published beside the funnel anyway: every completion is invited to evaluate, and the
#: number invited is shown. The steps are suppressed outward from it, so no place lost next to it is revealed.
ANCHOR = "completed"


def _step_marks(step: Step) -> dict[str, int | str]:
    """Each step's count, or why it is not shown: 1 to 9 is "fewer than 10"; from the anchor (completed) on, a
    step 1 to 9 places fewer than the last step shown before it is "hidden", and before the anchor a step 1 to 9
    places more than the next step shown after it is "hidden" (either way the places between them, lost, could
    be worked out)."""
    marks: dict[str, int | str] = {}
    anchor = STEPS.index(ANCHOR)

    def walk(names, beyond):
        last = None
        for name in names:
            n = getattr(step, name)
            if 0 < n < SMALL:
                marks[name] = FEWER_THAN_10
            elif last is not None and 0 < beyond(last, n) < SMALL:
                marks[name] = "hidden"
            else:
                marks[name] = last = n
        return last

    walk(STEPS[anchor:], lambda shown, n: shown - n)
    first = marks[ANCHOR]
    last = first if isinstance(first, int) else None
    for name in reversed(STEPS[:anchor]):
        n = getattr(step, name)
        if 0 < n < SMALL:
            marks[name] = FEWER_THAN_10
        elif last is not None and 0 < n - last < SMALL:
            marks[name] = "hidden"
        else:
            marks[name] = last = n
    return {name: marks[name] for name in STEPS}


def _shown_step(step: Step, marks: dict[str, int | str]) -> FunnelShown:
    def both(a: str, b: str) -> bool:
        return isinstance(marks[a], int) and isinstance(marks[b], int)

    return FunnelShown([(name, STEP_LABELS[name], marks[name]) for name in STEPS],
                       step.no_show_rate if both("booked", "attended") else None,
                       step.completion_rate if both("attended", "completed") else None,
                       step.certified_rate if both("completed", "certified") else None,
                       step.current_rate if both("certified", "current") else None)


def shown_funnel(step: Step) -> FunnelShown:
    """Reach's suppression for the funnel (:func:`_step_marks`): a step of 1 to 9 places is not shown, nor one
    whose difference from the next step shown toward the number completed is 1 to 9 (the places lost between them
    could be recovered by subtraction); a rate shows only when both its counts do."""
    return _shown_step(step, _step_marks(step))


def _pinned(step: Step, marks: dict[str, int | str], name: str) -> bool:
    """Whether a step's count follows from the steps shown either side of it (a step is at most the one before)."""
    i = STEPS.index(name)
    n = getattr(step, name)
    before = [marks[s] for s in STEPS[:i] if isinstance(marks[s], int)]
    after = [marks[s] for s in STEPS[i + 1:] if isinstance(marks[s], int)]
    return bool(before) and before[-1] == n and (n == 0 or (bool(after) and after[0] == n))


def shown_funnel_rows(total: Step, rows: list[Step]) -> list[FunnelShown]:
    """Rows that add up to ``total`` (course types, months), each suppressed as :func:`shown_funnel`; where only one
    cell of a step is hidden among the rows and the total, the smallest other row's is hidden too (one whose count
    the steps shown beside it do not give away first), so no hidden count is the total less the other rows. The
    total is never hidden further: it is the dashboard's."""
    total_marks = _step_marks(total)
    marks = [_step_marks(step) for step in rows]
    for name in STEPS:
        hidden = sum(not isinstance(m[name], int) for m in [total_marks, *marks])
        candidates = [i for i, m in enumerate(marks) if isinstance(m[name], int)]
        if hidden == 1 and candidates:
            n = {i: getattr(rows[i], name) for i in candidates}
            marks[min(candidates, key=lambda i: (_pinned(rows[i], marks[i], name), n[i] == 0, n[i], i))][name] = \
                "hidden"
    return [_shown_step(step, m) for step, m in zip(rows, marks, strict=True)]


@dataclass
class ShownFunnel:
    """The funnel as the page, its downloads and the API show it: the total (as the dashboard's section) and the
    rows by course type and by month, each suppressed beside the total."""

    total: FunnelShown
    by_course_type: list[tuple[CourseType, FunnelShown]]
    by_month: list[tuple[int, FunnelShown]]
    as_of: date


def shown_funnels(result: Funnel) -> ShownFunnel:
    types = shown_funnel_rows(result.total, [s for _, s in result.by_course_type])
    months = shown_funnel_rows(result.total, [s for _, s in result.by_month])
    return ShownFunnel(shown_funnel(result.total), [(t, s) for (t, _), s in zip(result.by_course_type, types,
                                                                                  strict=True)],
                       [(k, s) for (k, _), s in zip(result.by_month, months, strict=True)], result.as_of)


@dataclass
class Section:
    """The dashboard's outcomes section, from the kept figures: the summary (None when fewer than 10 answered),
    current first aiders today (in the filtered area when one is chosen on the home or work basis) and the
    funnel's total (suppressed as reach's tables are)."""

    summary: Figures | None
    answered: int
    current_first_aiders: int
    area_first_aiders: int | None
    funnel: FunnelShown | None = None
    funnel_total: Step | None = None
    first_aiders_unfiltered: bool = False  # a period or course types chosen: current first aiders ignore them

    @property
    def shown_area_first_aiders(self) -> int | str | None:
        """The chosen area's current first aiders as shown: 1 to 9 is "fewer than 10"."""
        return None if self.area_first_aiders is None else mark(self.area_first_aiders)


FIGURE_COUNTS = ("invited", "answered", "follow_ups", "follow_ups_answered")


@functools.cache
def _figures_row(m, shape: tuple) -> sa.Select:
    """The summary's sums in one row (evaluations and follow-ups apart), built once per shape of filters."""
    evaluation = m.kind == EVALUATION

    def of(kind, column):
        return sa.func.sum(sa.case((kind, column), else_=0))

    counts = [of(evaluation, m.invited), of(evaluation, m.answered), of(~evaluation, m.invited),
              of(~evaluation, m.answered)]
    query = sa.select(*(c.label(name) for c, name in zip(counts, FIGURE_COUNTS, strict=True)),
                      *(sa.func.sum(getattr(m, name)).label(name) for name in MONTH_VALUES[2:]))
    return _filtered(m, query, shape)


@functools.cache
def _section_statement(m, shape: tuple, aiders: sa.Select, funnel_row: sa.Select) -> sa.Select:
    """The section's three readings (the summary's sums, the first aiders, the funnel's total) in one row: three
    one-row statements joined, so a dashboard request reads them in one round trip."""
    figures, first_aiders, steps = _figures_row(m, shape).subquery("figures"), aiders.subquery("aiders"), \
        funnel_row.subquery("funnel")
    return sa.select(figures, first_aiders, steps).select_from(
        figures.join(first_aiders, sa.true()).join(steps, sa.true()))


def section(filters: Filters) -> Section:
    keeping.settled(db.session())
    in_area = filters.area is not None and filters.basis in ("home", "work")
    m = OutcomeMonth if filters.area is not None else OutcomeTypeMonth  # all areas together: a few hundred rows
    shape, params = _shape(filters)
    today = london_today()
    # Every first aider has one key on each basis (0: not known), so either basis's counts add up to the total.
    aiders, aider_params = firstaiders.kept_counts_statement(today, filters.basis if in_area else "home",
                                                             filters.area if in_area else None)
    steps, step_params = kept_rows(filters, today, utcnow(), grouped=False)
    row = db.session.execute(_section_statement(m, shape, aiders, steps),
                             {**params, **aider_params, **step_params}).one()._mapping
    number = {name: int(value or 0) for name, value in row.items()}
    figures = _with_totals(Figures(*(number[name] for name in FIGURE_COUNTS)),
                           {name: number[name] for name in MONTH_VALUES[2:]})
    total = Step(*(number[name] for name in STEPS))
    return Section(figures if figures.answered >= SHOWN_FROM else None, figures.answered, number["first_aiders"],
                   number["area_first_aiders"] if in_area else None, shown_funnel(total), total,
                   bool(filters.start_month or filters.end_month or filters.course_type_ids))


@dataclass
class PublicOutcomes:
    """The public page's region-level figures: only when 10 or more people in the region answered."""

    figures: Figures | None
    answered: int
    current_first_aiders: int


def public_region(region: set[int]) -> PublicOutcomes:
    """Evaluations and follow-ups of the people counted for the region (``region``: the area keys the headline
    counts, ``mhfa.reach.counted.counted_keys``), and their current first aiders, from kept rows."""
    keeping.settled(db.session())
    total = _kept_groups(OutcomeArea, None, Filters(), areas=set(region)).get("all", Figures())  # every month
    current = sum(n for key, n in firstaiders.kept_current_by_area().items() if key in region)
    return PublicOutcomes(total if total.answered >= SHOWN_FROM else None, total.answered, current)

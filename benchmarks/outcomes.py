"""The outcomes section's cost on the board's dashboard at programme scale, and the outcomes page itself.

With the demo history (evaluations answered for about 60% of completions, follow-ups for fewer), under
the same random mix of filters as the reach benchmark:

1. the outcomes section alone (``mhfa.outcomes.board.section``: the evaluation and follow-up summary
   and current first aiders, summed from the kept outcome figures), in an app context as the dashboard
   computes it;
2. ``GET /reach`` with the section and without it (the section's function swapped for one that
   returns nothing, so the page leaves the section out), alternating query by query in the same run,
   through the Flask test client as a board member: the section's own time inside each request is what
   it adds to that request (bar: under 10 ms at p95); the difference of the two pages' p95s is reported
   beside it;
3. ``GET /reach/outcomes`` (every outcomes table, from the kept figures); p50/p95.

    .venv/bin/python scripts/bench.py --only outcomes [--people 500000]
"""
from __future__ import annotations

import random
import time
from urllib.parse import urlencode

from benchmarks.dashboard import TYPES, _board_user
from benchmarks.harness import Context, Figure, ms_p50_p95, p50_p95, signed_in_client
from benchmarks.reach import random_filters

NAME = "outcomes"
SECTIONS = 100
PAGES = 60
OUTCOME_PAGES = 10


def run(ctx: Context) -> list[Figure]:
    from werkzeug.datastructures import MultiDict

    from mhfa.extensions import db
    from mhfa.outcomes import board
    from mhfa.reach.dashboard import areas_in_order, course_types
    from mhfa.reach.forms import parse_filters

    rng = random.Random(ctx.seed)
    app, areas, password = _board_user(ctx)
    mixes = [random_filters(rng, areas, TYPES) for _ in range(SECTIONS)]
    section = []
    with app.app_context():
        choices = areas_in_order(), course_types()
        for query in mixes:  # one pass first: a running worker has built each shape's statement before
            board.section(parse_filters(MultiDict(query), *choices).filters)
        for query in mixes:
            filters = parse_filters(MultiDict(query), *choices).filters
            began = time.perf_counter()
            board.section(filters)
            section.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
        db.engine.dispose()
    client = signed_in_client(app, "bench-board@bench.example.org", password)
    with_section, without_section, outcomes_page, in_page = [], [], [], []
    real_section = board.section

    def timed_section(filters):
        began = time.perf_counter()
        try:
            return real_section(filters)
        finally:
            in_page.append((time.perf_counter() - began) * 1000)

    for query in mixes[:PAGES]:  # one pass first: a running worker has built each shape's statement before
        client.get("/reach?" + urlencode(query, doseq=True))
    for index, query in enumerate(mixes[:PAGES]):
        url = "/reach?" + urlencode(query, doseq=True)
        for into, section_fn in ((with_section, timed_section), (without_section, lambda filters: None)):
            board.section = section_fn
            try:
                began = time.perf_counter()
                response = client.get(url)
                into.append((time.perf_counter() - began) * 1000)
            finally:
                board.section = real_section
            assert response.status_code == 200, (url, response.status_code)
        if index >= OUTCOME_PAGES:
            continue
        began = time.perf_counter()
        response = client.get("/reach/outcomes?" + urlencode(query, doseq=True))
        outcomes_page.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (query, response.status_code)
    s50, s95 = p50_p95(section)
    d50, d95 = p50_p95(with_section)
    b50, b95 = p50_p95(without_section)
    i50, i95 = p50_p95(in_page)
    return [
        Figure("outcomes section on the dashboard p50 / p95", f"{s50:.1f} / {s95:.1f} ms", "", "< 10 ms at p95",
               s95 < 10,
               [f"{len(section)} sections, mixed filters, after one pass over the same filters (each shape of filters "
                "builds its statements once per worker); summed from the kept outcome figures (outcome_month, "
                "first_aider_month, funnel_month)"]),
        Figure("outcomes section inside the dashboard's requests p50 / p95", f"{i50:.1f} / {i95:.1f} ms",
               f"dashboard p95 {d95:.0f} with it / {b95:.0f} ms without", "adds < 10 ms at p95", i95 < 10,
               [f"{len(with_section)} pages each way, alternating, the same filters: the section's own time inside "
                f"each request is what it adds to that request; the difference of the two pages' p95s, "
                f"{d95 - b95:.1f} ms ({d50 - b50:.1f} ms at p50), moves with the machine's noise at this sample "
                "size"]),
        Figure("outcomes page p50 / p95", ms_p50_p95(outcomes_page, 0), "", "", None,
               [f"{len(outcomes_page)} pages: every outcomes table by area, course type, funding stream and "
                "equality group, the funnel, current first aiders and their trend, all from kept figures"]),
    ]

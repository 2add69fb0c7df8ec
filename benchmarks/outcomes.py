"""The outcomes section's cost on the board's dashboard at programme scale, and the outcomes page itself.

With the demo history (evaluations answered for about 60% of completions, follow-ups for fewer), under
the same random mix of filters as the reach benchmark:

1. the outcomes section alone (``mhfa.outcomes.board.section``: the evaluation and follow-up summary,
   the funnel's totals and current first aiders), in an app context as the dashboard computes it; its
   p95 is what the section adds to ``GET /reach`` (bar: under 10 ms);
2. ``GET /reach`` with the section and ``GET /reach/outcomes`` (every outcomes table), through the Flask
   test client as a board member; p50/p95.

    .venv/bin/python scripts/bench.py --only outcomes [--people 500000]
"""
from __future__ import annotations

import random
import time
from urllib.parse import urlencode

from benchmarks.dashboard import TYPES, _board_user
from benchmarks.harness import Context, Figure, p50_p95, signed_in_client
from benchmarks.reach import random_filters

NAME = "outcomes"
SECTIONS = 100
PAGES = 30


def run(ctx: Context) -> list[Figure]:
    from werkzeug.datastructures import MultiDict

    from mhfa.extensions import db
    from mhfa.outcomes import board
    from mhfa.reach.forms import parse_filters

    rng = random.Random(ctx.seed)
    app, areas, password = _board_user(ctx)
    mixes = [random_filters(rng, areas, TYPES) for _ in range(SECTIONS)]
    section = []
    with app.app_context():
        for query in mixes[:5]:  # warm the caches, as a running worker has them
            board.section(parse_filters(MultiDict(query)).filters)
        for query in mixes:
            filters = parse_filters(MultiDict(query)).filters
            began = time.perf_counter()
            board.section(filters)
            section.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
        db.engine.dispose()
    client = signed_in_client(app, "bench-board@bench.example.org", password)
    dashboard, outcomes_page = [], []
    for query in mixes[:PAGES]:
        for url, into in (("/reach?", dashboard), ("/reach/outcomes?", outcomes_page)):
            began = time.perf_counter()
            response = client.get(url + urlencode(query, doseq=True))
            into.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, query, response.status_code)
    s50, s95 = p50_p95(section)
    d50, d95 = p50_p95(dashboard)
    o50, o95 = p50_p95(outcomes_page)
    return [
        Figure("outcomes section on the dashboard p50 / p95", f"{s50:.1f} / {s95:.1f} ms",
               f"the dashboard with it {d50:.0f} / {d95:.0f} ms", "adds < 10 ms at p95", s95 < 10,
               [f"{len(section)} sections, mixed filters; read from the raw answers, bookings and certificates "
                "(no kept figures)"]),
        Figure("outcomes page p50 / p95", f"{o50:.0f} / {o95:.0f} ms", "", "", None,
               [f"{len(outcomes_page)} pages: every outcomes table by area, course type, funding stream and "
                "equality group, the funnel and current first aiders"]),
    ]

"""Employers, venues and employers' orders (invoices, place vouchers) of the demo history.

A part of the demo history builder (``mhfa.demo.services._HistoryBuilder``): its methods read and set
the builder's arrays.
"""
from __future__ import annotations

import secrets

import numpy as np
import pandas as pd
import sqlalchemy as sa

from mhfa.areas.models import CouncilArea
from mhfa.demo import bulk
from mhfa.demo.shape import CONFIRMED, EMPLOYER_PRICE_PENCE, START
from mhfa.extensions import db


class _Organisations:
    """Employers, venues and employers' orders (invoices, place vouchers) of the demo history."""

    def _not_after_today(self, moments, margin_days: int = 0, spread_days: int = 3) -> np.ndarray:
        """The history ends at --today: moments after it (bookings made for courses ahead, ...) are moved
        back into the ``spread_days`` before ``margin_days`` before today, deterministically."""
        limit = np.datetime64(self.today, "s") - np.timedelta64(margin_days, "D")
        moments = np.array(moments, dtype="datetime64[s]")
        late = moments > limit
        if late.any():
            back = (np.flatnonzero(late) * 7919) % (spread_days * 86400) + 3600
            moments[late] = limit - back.astype("timedelta64[s]")
        return moments

    # ------------------------------------------------------------------ employers and venues
    def _employers(self) -> None:
        rng = self.rng
        count = max(8, self.n // 250)
        sizes = rng.choice(["micro", "small", "medium", "large"], size=count, p=[0.2, 0.35, 0.3, 0.15])
        sectors = rng.choice(["public", "private", "voluntary", "education", "health"], size=count,
                             p=[0.25, 0.4, 0.15, 0.1, 0.1])
        areas = self._pick_area(count)
        outside = rng.random(count) < 0.08
        others = self.ref.area_ids[~self.ref.area_in_region]
        areas[outside] = rng.choice(others, size=int(outside.sum()))
        words = np.array(["Foundry", "Canal", "Heritage", "Midland", "Forge", "Crown", "Jewellery Quarter", "Arden",
                          "Black Country", "Severn", "Unity", "Civic", "Bullring", "Lickey", "Spires", "Brindley"])
        kinds = {"public": "Council Services", "private": "Ltd", "voluntary": "Community Trust",
                 "education": "Academy Trust", "health": "Care Partnership"}
        names = [f"{words[i % len(words)]} {kinds[s]} {i + 1}" for i, s in enumerate(sectors)]
        self.employer_ids = np.arange(1, count + 1)
        self.employer_area = areas
        self.employer_size = sizes
        self.employer_weight = np.select([sizes == "micro", sizes == "small", sizes == "medium"], [1, 4, 15], 60)
        self.frames.add("employer", pd.DataFrame({
            "id": self.employer_ids,
            "name": names,
            "sector": sectors,
            "size_band": sizes,
            "council_area_id": areas,
            "wellbeing_commitment_signatory": rng.random(count) < 0.3,
            # Within each size band, without drawing from the generator (the rest of the history stays the same).
            "headcount": np.select([sizes == "micro", sizes == "small", sizes == "medium"],
                                   [3 + self.employer_ids % 7, 10 + self.employer_ids * 7 % 40,
                                    50 + self.employer_ids * 37 % 200], 250 + self.employer_ids * 389 % 4000),
            "billing_address": [f"Finance office, {name}" for name in names],
            "created_at": bulk.moments(self._date(rng.integers(0, max(1, self.today_index - 30), count))
                                       .astype("datetime64[s]") + np.timedelta64(9, "h")),
        }))

    def _venues(self) -> None:
        rng = self.rng
        region = self.ref.area_ids[self.ref.area_in_region]
        others = self.ref.area_ids[~self.ref.area_in_region]
        extra = max(12, self.n // 3000)
        areas = np.concatenate([region, others, self._pick_area(extra)])
        count = len(areas)
        kinds = np.array(["Community Hub", "Central Library", "Council House", "Learning Centre", "Fire Station",
                          "Wellbeing Centre", "Enterprise Centre", "Methodist Hall", "Gurdwara Hall", "Leisure Centre"])
        postcode_districts = {"Birmingham": "B", "Coventry": "CV", "Dudley": "DY", "Sandwell": "B", "Solihull": "B",
                              "Walsall": "WS", "Wolverhampton": "WV"}
        area_names = dict(db.session.execute(sa.select(CouncilArea.id, CouncilArea.name)).all())
        names, towns, postcodes = [], [], []
        for i, area_id in enumerate(areas):
            town = area_names[int(area_id)]
            names.append(f"{town} {kinds[i % len(kinds)]}" + (f" {i // len(kinds) + 1}" if i >= len(kinds) else ""))
            towns.append(town)
            prefix = postcode_districts.get(town, "CV")
            postcodes.append(f"{prefix}{rng.integers(1, 40)} {rng.integers(1, 9)}{'ABDEFGHJLNPQRSTUWXYZ'[i % 20]}"
                             f"{'ABDEFGHJLNPQRSTUWXYZ'[(i * 7) % 20]}")
        self.venue_ids = np.arange(1, count + 1)
        self.venue_area = areas
        self.venues_by_area: dict[int, np.ndarray] = {
            int(a): self.venue_ids[areas == a] for a in np.unique(areas)
        }
        self.frames.add("venue", pd.DataFrame({
            "id": self.venue_ids,
            "name": names,
            "address_line1": [f"{rng.integers(1, 200)} {s} Street" for s in rng.choice(
                ["High", "Church", "Station", "Victoria", "Park", "Queen", "Mill", "New"], size=count)],
            "address_line2": "",
            "town": towns,
            "postcode": postcodes,
            "council_area_id": areas,
            "step_free_access": rng.random(count) < 0.78,
            "access_notes": "",
            "active": True,
        }))

    # ------------------------------------------------------------------ orders, invoices, vouchers
    def _orders(self) -> None:
        rng, ref, course, b = self.rng, self.ref, self.course, self.bookings
        codes = np.array(ref.type_codes, dtype=object)
        order_rows = []
        voucher_rows = []
        booking_voucher = np.zeros(len(b), dtype=np.int64)
        source = b.source.to_numpy().copy()
        live_confirmed = b.status.to_numpy() == CONFIRMED
        # Closed courses: one order per course, a voucher redeemed per place taken.
        closed_courses = np.flatnonzero((course.closed_employer.to_numpy() > 0) & (course.fill.to_numpy() > 0))
        by_course = pd.Series(np.flatnonzero(live_confirmed)).groupby(b.course.to_numpy()[live_confirmed]).apply(list)
        # Open courses: employers pay for some staff places through yearly orders.
        person = b.person.to_numpy()
        emp = self.employer[person]
        open_paid = (live_confirmed & ~np.isnan(emp) & (source == "self")
                     & (rng.random(len(b)) < 0.2))
        open_year = self._date((self.course_first_start[b.course.to_numpy()].astype("datetime64[D]")
                                - np.datetime64(START)).astype(int)).astype("datetime64[Y]").astype(int) + 1970
        groups = pd.DataFrame({
            "row": np.flatnonzero(open_paid), "employer": emp[open_paid].astype(int),
            "ctype": course.ctype.to_numpy()[b.course.to_numpy()[open_paid]], "year": open_year[open_paid],
        }).groupby(["employer", "ctype", "year"])["row"].apply(list)

        def add_order(employer_id: int, ctype: int, rows: list[int], first_course_start) -> None:
            order_id = len(order_rows) + 1
            spare = int(rng.integers(0, 3))
            ordered = first_course_start - np.timedelta64(int(rng.integers(20, 70)), "D")
            ordered = self._not_after_today([ordered], margin_days=3 + order_id % 5, spread_days=1)[0]
            order_rows.append((order_id, employer_id, ctype, len(rows) + spare, ordered))
            for k in range(len(rows) + spare):
                voucher_id = len(voucher_rows) + 1
                if k < len(rows):
                    row = rows[k]
                    booking_voucher[row] = voucher_id
                    source[row] = "employer"
                    voucher_rows.append((voucher_id, order_id, "redeemed", int(person[row]) + 1, ordered))
                else:
                    voucher_rows.append((voucher_id, order_id, "available", 0, ordered))

        for course_index in closed_courses:
            rows = by_course.get(course_index, [])
            if rows:
                add_order(int(course.closed_employer[course_index]), int(course.ctype[course_index]), rows,
                          self.course_first_start[course_index])
        for (employer_id, ctype, _year), rows in groups.items():
            add_order(int(employer_id), int(ctype), rows, self.course_first_start[b.course.to_numpy()[rows[0]]])
        order_rows.sort(key=lambda r: r[4])
        renumber = {old[0]: new for new, old in enumerate(order_rows, start=1)}
        count = len(order_rows)
        pending = max(2, self.n // 20000)
        ordered = np.array([r[4] for r in order_rows], dtype="datetime64[s]")
        ctype_of_order = np.array([r[2] for r in order_rows], dtype=int)
        places = np.array([r[3] for r in order_rows], dtype=int)
        employer_of_order = np.array([r[1] for r in order_rows], dtype=int)
        # A few recent orders waiting for the programme team to confirm.
        new_employers = rng.choice(self.employer_ids, pending)
        new_types = rng.choice([ref.type_index("ADULT_2DAY"), ref.type_index("ADULT_CHAMPION")], pending)
        new_ordered = (np.datetime64(self.today) - rng.integers(1, 10, pending).astype("timedelta64[D]")).astype(
            "datetime64[s]") + np.timedelta64(10, "h")
        price = np.array([EMPLOYER_PRICE_PENCE[c] for c in codes[np.concatenate([ctype_of_order, new_types])]])
        # Invoices for invoiced orders: most paid (the order then "paid"), some overdue.
        issued = ordered.astype("datetime64[D]") + np.timedelta64(1, "D")
        due = issued + np.timedelta64(30, "D")
        paid = issued + rng.integers(5, 45, count).astype("timedelta64[D]")
        unpaid = (paid >= np.datetime64(self.today)) | (rng.random(count) < 0.03)
        status = np.array(list(np.where(unpaid, "invoiced", "paid")) + ["pending"] * pending, dtype=object)
        all_ordered = np.concatenate([ordered, new_ordered])
        self.frames.add("employer_order", pd.DataFrame({
            "id": np.arange(1, count + pending + 1),
            "employer_id": np.concatenate([employer_of_order, new_employers]),
            "course_type_id": ref.type_ids[np.concatenate([ctype_of_order, new_types])],
            "purchase_order_ref": [f"PO-{i + self.offset.get('employer_order', 0):06d}"
                                   for i in range(1, count + pending + 1)],
            "places": np.concatenate([places, rng.integers(4, 17, pending)]),
            "price_per_place_pence": price,
            "status": status,
            "ordered_at": bulk.moments(all_ordered),
            "created_by_user_id": pd.array([None] * (count + pending), dtype="Int64"),
            "vat_rate_bp": np.where(np.arange(count + pending) < count, 0, 2000),
        }))
        voucher_ids = np.array([v[0] for v in voucher_rows], dtype=np.int64)
        voucher_ordered = np.array([v[4] for v in voucher_rows], dtype="datetime64[s]")
        assigned = np.array([v[3] for v in voucher_rows], dtype=float)
        assigned[assigned == 0] = np.nan
        self.frames.add("place_voucher", pd.DataFrame({
            "id": voucher_ids,
            "order_id": np.array([renumber[v[1]] for v in voucher_rows], dtype=np.int64),
            "code": [secrets.token_urlsafe(16) for _ in voucher_rows],
            "status": np.array([v[2] for v in voucher_rows], dtype=object),
            "assigned_person_id": pd.array(assigned, dtype="Int64"),
            "assigned_at": bulk.moments(np.where(np.isnan(assigned), np.datetime64("NaT"), voucher_ordered)
                                        .astype("datetime64[s]") + np.timedelta64(2, "D")),
            "expires_on": bulk.days(voucher_ordered.astype("datetime64[D]") + np.timedelta64(365, "D")),
        }))
        paid = paid.astype("datetime64[D]")
        paid[unpaid] = np.datetime64("NaT")
        self.frames.add("invoice", pd.DataFrame({
            "id": np.arange(1, count + 1),
            "number": [f"INV-{i + self.offset.get('invoice', 0):06d}"  # the app's own format (orders.py)
                       for i in range(1, count + 1)],
            "order_id": np.arange(1, count + 1),
            "amount_pence": places * price[:count],
            "net_pence": places * price[:count],
            "vat_pence": 0,
            "vat_rate_bp": 0,
            "supplied_on": bulk.days(issued),
            "issued_on": bulk.days(issued),
            "due_on": bulk.days(due),
            "paid_on": bulk.days(paid),
        }))
        self.bookings = b.assign(voucher=booking_voucher, source=source)
        self.order_count = count + pending
        self.top_employer = int(np.bincount(employer_of_order).argmax()) if count else int(self.employer_ids[0])

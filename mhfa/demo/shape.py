"""How the demo history is shaped over time: the dates, the pandemic, the seasons, the course mix."""
from __future__ import annotations

from datetime import date

import numpy as np

START = date(2017, 2, 1)
LOCKDOWN_START = date(2020, 3, 23)
ONLINE_START = date(2020, 5, 29)
IN_PERSON_RESUMES = date(2021, 4, 12)
HORIZON_DAYS = 84

ASSUMPTIONS = (
    "Seasonality (assumption, none is published): August at 55% of normal delivery, almost none 20 Dec-3 Jan.",
    "COVID-19 (assumption): no delivery 23 Mar-28 May 2020; online only until 12 Apr 2021.",
    "Online delivery from 29 May 2020 (MHFA England); settling at about 30% of courses (assumption).",
)

FIRST_COURSE_MIX = {"ADULT_2DAY": 0.42, "ADULT_CHAMPION": 0.18, "AWARE": 0.27, "YOUTH_2DAY": 0.10,
                    "YOUTH_CHAMPION": 0.03}
PUBLIC_PRICE_PENCE = {"ADULT_2DAY": 25000, "ADULT_CHAMPION": 15000, "AWARE": 7500, "YOUTH_2DAY": 25000,
                      "YOUTH_CHAMPION": 15000, "REFRESHER": 9000}
EMPLOYER_PRICE_PENCE = {"ADULT_2DAY": 30000, "ADULT_CHAMPION": 18000, "AWARE": 9500, "YOUTH_2DAY": 30000,
                        "YOUTH_CHAMPION": 18000, "REFRESHER": 11000}
# Assumption (no published figure): what the programme pays to deliver one publicly funded course
# (instructors' fees, venue and materials), recorded on every completed public course; ±15% each.
DELIVERY_COST_PENCE = {"ADULT_2DAY": 180000, "ADULT_CHAMPION": 95000, "AWARE": 45000, "YOUTH_2DAY": 180000,
                       "YOUTH_CHAMPION": 95000, "REFRESHER": 50000}
REFRESHABLE = ("ADULT_2DAY", "ADULT_CHAMPION", "YOUTH_2DAY", "YOUTH_CHAMPION")

# Session layouts: (day offsets, London start hour, start minute, hours per session).
LAYOUTS = {
    ("ADULT_2DAY", False): ((0, 1), 9, 0, 7.0),
    ("ADULT_2DAY", True): ((0, 2, 7, 9), 9, 30, 3.5),
    ("YOUTH_2DAY", False): ((0, 1), 9, 0, 7.0),
    ("YOUTH_2DAY", True): ((0, 2, 7, 9), 9, 30, 3.5),
    ("ADULT_CHAMPION", False): ((0,), 9, 0, 7.0),
    ("ADULT_CHAMPION", True): ((0, 2), 9, 30, 3.5),
    ("YOUTH_CHAMPION", False): ((0,), 9, 0, 7.0),
    ("YOUTH_CHAMPION", True): ((0, 2), 9, 30, 3.5),
    ("AWARE", False): ((0,), 9, 30, 4.0),
    ("AWARE", True): ((0,), 13, 0, 4.0),
    ("REFRESHER", False): ((0,), 9, 30, 4.0),
    ("REFRESHER", True): ((0,), 13, 0, 4.0),
}

BOOKING_STATUS = np.array(["confirmed", "waitlisted", "cancelled"], dtype=object)
CONFIRMED, WAITLISTED, CANCELLED = 0, 1, 2
OUTCOME_COMPLETE, OUTCOME_NO_SHOW, OUTCOME_PARTIAL = 0, 1, 2


def _day_dates(n_days: int) -> np.ndarray:
    return np.datetime64(START) + np.arange(n_days).astype("timedelta64[D]")


def delivery_weights(n_days: int, today_index: int) -> np.ndarray:
    """Relative delivery per day since the launch: growth, seasonality, the pandemic, bookings ahead."""
    days = np.arange(n_days)
    dates = _day_dates(n_days)
    years = days / 365.25
    growth = 0.03 + 1.0 / (1.0 + np.exp(-(years - 3.4) * 1.05))
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    season = np.ones(n_days)
    season[months == 8] = 0.55
    season[months == 7] = 0.9
    season[(months == 12) & (day_of_month >= 20)] = 0.08
    season[(months == 1) & (day_of_month <= 3)] = 0.08
    pandemic = np.ones(n_days)
    lockdown = (dates >= np.datetime64(LOCKDOWN_START)) & (dates < np.datetime64(ONLINE_START))
    pandemic[lockdown] = 0.0
    online_only = (dates >= np.datetime64(ONLINE_START)) & (dates < np.datetime64(IN_PERSON_RESUMES))
    pandemic[online_only] = 0.6
    ahead = days > today_index
    booked_so_far = np.ones(n_days)
    booked_so_far[ahead] = np.clip(1.0 - (days[ahead] - today_index) / (HORIZON_DAYS * 1.15), 0.1, 1.0)
    return growth * season * pandemic * booked_so_far


def online_probability(day_index: np.ndarray) -> np.ndarray:
    dates = np.datetime64(START) + day_index.astype("timedelta64[D]")
    p = np.zeros(len(day_index))
    p[dates >= np.datetime64(ONLINE_START)] = 1.0
    p[dates >= np.datetime64(IN_PERSON_RESUMES)] = 0.75
    settling = dates >= np.datetime64(date(2021, 7, 19))
    progress = np.clip((dates - np.datetime64(date(2021, 7, 19))).astype(int) / 540.0, 0, 1)
    p[settling] = (0.6 - 0.3 * progress)[settling]
    return p


def _holiday(day: date) -> bool:
    """The Christmas and New Year break, when no course runs."""
    return (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2)

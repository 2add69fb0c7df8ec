"""What if N more people a month were reached from month M? The same paths, shifted."""
from __future__ import annotations

import pandas as pd

from mhfa.errors import DomainError
from mhfa.forecast.series import parse_month
from mhfa.forecast.simulate import Outlook, month_text, read_off


def what_if(outlook: Outlook, *, extra_per_month: int, from_month: str | pd.Period, target: int,
            deadline: pd.Period, history: pd.Series) -> dict:
    """The probability, reach at the deadline and month reached with ``extra_per_month`` more from ``from_month``."""
    if extra_per_month < 0:
        raise DomainError("The extra people a month cannot be negative", field="extra_per_month")
    month = parse_month(from_month) if isinstance(from_month, str) else from_month
    if month <= outlook.as_of:
        raise DomainError(
            f"The what-if must start after the last month of data ({month_text(outlook.as_of)})", field="from_month"
        )
    before = read_off(outlook, target=target, deadline=deadline, history=history)
    after = read_off(outlook.shifted(extra_per_month, month), target=target, deadline=deadline, history=history)
    return {
        "extra_per_month": extra_per_month,
        "from_month": month_text(month),
        "probability_of_target": after["probability_of_target"],
        "probability_change": round(after["probability_of_target"] - before["probability_of_target"], 4),
        "at_deadline": after["at_deadline"],
        "month_target_reached": after["month_target_reached"],
    }

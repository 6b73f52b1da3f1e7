"""What every figure of the leaderboard page shares, as plain plotly JSON.

The study figures (:mod:`spectramind.leaderboard.study_figures`) and the per-wavelength
diagnostics (:mod:`spectramind.leaderboard.figures`) draw with the same numbers, layout, height
and colours, so the page reads as one: the best configuration is always green, the baseline red.
The page (:mod:`spectramind.leaderboard.html`) sizes a plot's div from the layout's height.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

PLOT_HEIGHT = 380
PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")  # no best/baseline hues
BEST_COLOR, BASELINE_COLOR, OTHER_COLOR, CLASSICAL_COLOR = "#2ca02c", "#d62728", "#7f8fa6", "#1f77b4"


def json_numbers(values: Iterable[Any]) -> list[Any]:
    """Plain JSON numbers; NaN/inf become null (plotly draws a gap)."""
    out = []
    for value in values:
        number = float(value) if value is not None and value is not pd.NA else math.nan
        out.append(number if math.isfinite(number) else None)
    return out


def figure_layout(title: str, x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    """The layout every figure starts from; ``extra`` adds keys, or updates the dict-valued ones
    (``yaxis={"type": "category"}`` keeps the axis title)."""
    layout = {
        "title": {"text": title, "font": {"size": 14}},
        "height": PLOT_HEIGHT,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True},
        "hovermode": "closest",
    }
    for key, value in extra.items():
        layout[key] = (
            {**layout[key], **value} if isinstance(layout.get(key), dict) and isinstance(value, dict) else value
        )
    return layout

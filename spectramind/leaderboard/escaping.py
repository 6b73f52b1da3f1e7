"""Text from a sweep made safe for the leaderboard page: in markup, and inside <script> blocks.

Factor levels, labels, run ids and error messages come from configs and command lines, so they
are escaped wherever they enter the page (including plotly's text, which it renders as markup),
and figure JSON is written so that no value can close the script element that holds it.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd


def escape(value: Any) -> str:
    """HTML-escape any value (quotes included) for markup and for plotly text."""
    return html.escape("" if value is None or value is pd.NA else str(value), quote=True)


def script_json(payload: Any) -> str:
    """JSON that is safe inside a <script> element: no ``<``, ``>``, ``&`` characters at all."""
    text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

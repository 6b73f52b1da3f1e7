"""Reading the plotly figures back out of a rendered leaderboard.html (shared by the HTML and
security tests)."""

from __future__ import annotations

import json
import re

_FIGURE_JSON = re.compile(r"<script type='application/json' id='figure-\d+'>(.*?)</script>", re.S)


def figure_blocks(page: str) -> list[str]:
    """The raw text of every figure's ``<script type='application/json'>`` block."""
    return _FIGURE_JSON.findall(page)


def figure_strings(page: str) -> list[tuple[str, str]]:
    """(key, text) for every string inside the figures, keyed by the dict key it sits under."""
    strings: list[tuple[str, str]] = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str):
            strings.append((key, node))

    for block in figure_blocks(page):
        walk(json.loads(block))
    return strings

"""spectramind.fast_exit: a process that registered skip_final_collection exits without the
interpreter's final garbage collection (what saves ~1 s per command and per joblib worker)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# An unreachable reference cycle whose finaliser says when the collector frees it.
SCRIPT = textwrap.dedent("""
    import sys
    from spectramind.fast_exit import skip_final_collection

    class Cycle:
        def __del__(self):
            print("collected", flush=True)

    if sys.argv[1] == "skip":
        skip_final_collection()
        skip_final_collection()  # registering twice is harmless
    cycle = Cycle()
    cycle.me = cycle
    del cycle
    print("exiting", flush=True)
""")


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("default", "exiting\ncollected\n"),  # the interpreter's final collection frees the cycle
        ("skip", "exiting\n"),  # frozen at exit: the final collection skips it
    ],
)
def test_the_final_collection_is_skipped_once_registered(mode, expected):
    result = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    assert result.stdout == expected

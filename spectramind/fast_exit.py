"""Skip the interpreter's final garbage collection in processes that loaded torch and Lightning.

Once torch, Lightning and pandas are imported, the last full collection the interpreter runs on
its way out walks ~0.5 M objects: 1.1-1.5 s of every command's wall time on 2 cores
(docs/performance.md), and as much again in every joblib worker, whose exit the sweep waits for.
:func:`skip_final_collection` registers ``gc.freeze`` to run at exit: it moves every live object
to the collector's permanent generation, which the final collection skips. Nothing is lost: exit
handlers run after the program's own code, files are written and closed by then, and the memory
goes back to the OS with the process.
"""

from __future__ import annotations

import atexit
import functools
import gc


@functools.cache
def skip_final_collection() -> None:
    """Freeze the collector's objects when this process exits (registered once per process)."""
    atexit.register(gc.freeze)

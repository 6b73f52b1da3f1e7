"""Start-up: the CLIs' ``--help`` against ``import torch``, and a torch-free Hydra plugin scan.

Hydra imports every module under ``hydra_plugins`` whenever any Hydra app starts (even
``--help``), so a torch import there would tax every command by seconds; the scan check runs that
discovery in a fresh interpreter and reports which heavy modules it pulled in.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from bench.timing import bench_env, interleaved, median, python_command, rounded, timed_run

HELP_TARGET = 1.2
HEAVY_MODULES = ("torch", "pytorch_lightning", "torchmetrics", "pandas", "scipy")

# Run in a fresh interpreter: discover sweepers the way Hydra does at start-up, then report.
PLUGIN_SCAN_CODE = """
import json, sys
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
found = [f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(Sweeper)]
print(json.dumps({"sweepers": found, "heavy": [m for m in HEAVY if m in sys.modules]}))
"""


def plugin_scan() -> dict:
    """Sweeper classes Hydra's plugin scan finds, and the heavy modules the scan imported."""
    code = f"HEAVY = {list(HEAVY_MODULES)!r}\n{PLUGIN_SCAN_CODE}"
    _, result = timed_run(python_command("-c", code), env=bench_env())
    return json.loads(result.stdout.strip().splitlines()[-1])


def console_script() -> str:
    """The installed ``spectramind`` entry point next to this interpreter (the venv's), else PATH's."""
    beside = Path(sys.executable).with_name("spectramind")
    return str(beside) if beside.exists() else (shutil.which("spectramind") or "spectramind")


def startup(repeats: int = 7) -> dict:
    commands = {
        "import_torch": python_command("-c", "import torch"),
        "train_help": python_command("-m", "spectramind.train", "--help"),
        "cli_help": [console_script(), "--help"],
    }
    times = interleaved(commands, repeats)
    medians = {name: median(values) for name, values in times.items()}
    torch_s = medians["import_torch"]
    scan = plugin_scan()
    ablation_found = any(name.endswith("AblationSweeper") for name in scan["sweepers"])
    figures = {
        "import_torch_s": round(torch_s, 3),
        "train_help_s": round(medians["train_help"], 3),
        "cli_help_s": round(medians["cli_help"], 3),
        "train_help_ratio": round(medians["train_help"] / torch_s, 3),
        "cli_help_ratio": round(medians["cli_help"] / torch_s, 3),
        "samples_s": {name: rounded(values) for name, values in times.items()},
        "plugin_scan_found_ablation_sweeper": ablation_found,
        "plugin_scan_heavy_imports": scan["heavy"],
    }
    worst = max(figures["train_help_ratio"], figures["cli_help_ratio"])
    torch_free = ablation_found and "torch" not in scan["heavy"]
    return {
        "title": "Start-up: --help vs import torch; plugin scan without torch",
        "what": f"median of {repeats} interleaved runs (after one warm-up round) of `python -c 'import torch'`, "
        "`python -m spectramind.train --help`, `spectramind --help`; Hydra's "
        "`Plugins.instance().discover(Sweeper)` in a fresh interpreter",
        "figures": figures,
        "headline": (
            f"train --help {figures['train_help_ratio']:.2f}x, spectramind --help "
            f"{figures['cli_help_ratio']:.2f}x import torch; plugin scan imports torch: "
            f"{'no' if torch_free else 'YES' if ablation_found else 'ablation sweeper not found'}"
        ),
        "target": f"<= {HELP_TARGET}x import torch; plugin scan torch-free",
        "met": worst <= HELP_TARGET and torch_free,
    }

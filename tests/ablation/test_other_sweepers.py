"""spectramind with any Hydra sweeper: Hydra's BasicSweeper and the real hydra-optuna-sweeper compose
with spectramind's config and run its training; the leaderboard and ``ablate status`` read their
plain multirun folders (numbered job folders, no sweep.json)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from sweep_helpers import explain, run_sweep, sweep_env

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only


def spectramind(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spectramind", *args],
        cwd=cwd,
        env=sweep_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_basic_sweeper_runs_and_its_folder_is_a_leaderboard(tmp_path, train_overrides):
    sweep_dir = tmp_path / "basic"
    result = run_sweep(
        tmp_path, "hydra/sweeper=basic", "model=mlp,cnn1d", *train_overrides, f"hydra.sweep.dir={sweep_dir}"
    )
    assert result.returncode == 0, explain(result)
    assert sorted(p.name for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()) == ["0", "1"]
    assert not (sweep_dir / "sweep.json").exists() and (sweep_dir / "multirun.yaml").is_file()

    board = spectramind(tmp_path, "ablate", "leaderboard", str(sweep_dir))
    assert board.returncode == 0, explain(board)
    document = json.loads((sweep_dir / "leaderboard.json").read_text())
    assert document["n_runs"] == 2 and document["n_completed"] == 2
    assert sorted(row["label"] for row in document["configs"]) == ["model=cnn1d", "model=mlp"]
    records = [json.loads((sweep_dir / job / "run.json").read_text()) for job in ("0", "1")]
    assert {row["run_id"] for row in document["runs"]} == {record["run_id"] for record in records}
    ranking = (sweep_dir / "leaderboard.md").read_text().split("## Ranking")[1].split("##")[0]
    assert "| mlp |" in ranking and "| cnn1d |" in ranking

    status = spectramind(tmp_path, "ablate", "status", str(sweep_dir))
    assert status.returncode == 0, explain(status)
    assert "progress: 2/2 runs finished" in status.stdout and "plain Hydra multirun" in status.stdout


def test_optuna_sweeper_trials_are_leaderboard_rows(tmp_path, train_overrides):
    sweep_dir = tmp_path / "optuna"
    result = run_sweep(
        tmp_path,
        "hydra/sweeper=optuna",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.n_jobs=1",
        "hydra.sweeper.direction=maximize",
        "hydra.sweeper.sampler.seed=1",
        "optimizer.lr=interval(0.001,0.01)",
        *train_overrides,
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 0, explain(result)
    optimization = sweep_dir / "optimization_results.yaml"
    assert optimization.is_file()  # Optuna's own record: the study ran through its sweeper
    # Optuna was handed each trial's validation score, never the held-out test score
    trials = [json.loads(path.read_text()) for path in sweep_dir.glob("*/metrics.json")]
    best_value = yaml.safe_load(optimization.read_text())["best_value"]
    assert len(trials) == 2 and best_value == pytest.approx(
        max(trial["val_adc2025_unclipped"] for trial in trials), rel=1e-9
    )
    assert all(best_value != trial["adc2025"] for trial in trials)

    board = spectramind(tmp_path, "ablate", "leaderboard", str(sweep_dir))
    assert board.returncode == 0, explain(board)
    document = json.loads((sweep_dir / "leaderboard.json").read_text())
    assert document["n_runs"] == 2 and document["n_completed"] == 2
    assert list(document["factors"]) == ["optimizer.lr"]
    trial_lrs = sorted(float(row["optimizer.lr"]) for row in document["runs"])
    assert all(0.001 <= lr <= 0.01 for lr in trial_lrs) and trial_lrs[0] != trial_lrs[1]


def test_every_training_command_in_the_sweepers_page_composes():
    """docs/sweepers.md's `python -m spectramind.train` lines compose as written (with the sweeper they
    select, which needs its plugin installed); its `spectramind` lines are checked by test_docs."""
    import re
    import shlex
    from pathlib import Path

    from hydra import compose, initialize_config_module
    from hydra.core.override_parser.overrides_parser import OverridesParser

    page = Path(__file__).resolve().parents[2] / "docs" / "sweepers.md"
    lines = [
        line.strip()
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.DOTALL)
        for line in block.splitlines()
        if line.strip().startswith("python -m spectramind.train")
    ]
    assert len(lines) == 2
    for line in lines:
        words = [word for word in shlex.split(line)[3:] if word != "--multirun"]
        parsed = OverridesParser.create().parse_overrides(words)  # the sweeps parse in Hydra's grammar
        overrides = [o.input_line for o in parsed if not o.is_sweep_override()]  # compose takes no sweeps
        with initialize_config_module(config_module="spectramind.conf", version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
        assert cfg.hydra.sweeper._target_.rsplit(".", 1)[1] in ("BasicSweeper", "OptunaSweeper")

"""LeaderboardCallback: light to import, builds at multirun end, never raises into Hydra."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

from omegaconf import OmegaConf

from spectramind.leaderboard.callback import LeaderboardCallback

REPO = Path(__file__).resolve().parents[2]


def test_import_does_not_load_heavy_modules():
    code = (
        "import sys, spectramind.leaderboard.callback; "
        "print(','.join(m for m in ('torch', 'plotly', 'pandas', 'scipy', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_builds_and_prints_the_markdown_path(mixed_sweep, capsys):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(mixed_sweep.dir)}}})
    LeaderboardCallback(top_n=1).on_multirun_end(config)
    assert str(mixed_sweep.dir / "leaderboard.md") in capsys.readouterr().out
    assert (mixed_sweep.dir / "leaderboard.html").exists()
    assert len([p for p in (mixed_sweep.dir / "ablation_results").iterdir() if p.is_dir()]) == 1


def test_disabled_does_nothing(mixed_sweep):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(mixed_sweep.dir)}}})
    LeaderboardCallback(enabled=False).on_multirun_end(config)
    assert not (mixed_sweep.dir / "leaderboard.md").exists()


def test_errors_are_logged_not_raised(tmp_path, caplog, mixed_sweep):
    missing = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "missing")}}})
    with caplog.at_level(logging.ERROR, logger="spectramind.leaderboard.callback"):
        LeaderboardCallback().on_multirun_end(missing)
        LeaderboardCallback(primary_metric="no_such_metric").on_multirun_end(
            OmegaConf.create({"hydra": {"sweep": {"dir": str(mixed_sweep.dir)}}})
        )
        LeaderboardCallback().on_multirun_end(OmegaConf.create({}))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3 and all("\n" not in m for m in messages)
    assert "DatasetError" in messages[0] and "no_such_metric" in messages[1]


def test_hydra_calls_it_at_the_end_of_a_multirun(tmp_path):
    """A real Hydra multirun (basic launcher) whose jobs write run records; the callback runs."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text(
        textwrap.dedent("""
        model: mlp
        seed: 0
        hydra:
          sweep:
            dir: sweep
          callbacks:
            leaderboard:
              _target_: spectramind.leaderboard.callback.LeaderboardCallback
              top_n: 2
    """)
    )
    (tmp_path / "task.py").write_text(
        textwrap.dedent("""
        import json
        from pathlib import Path
        import hydra
        from hydra.core.hydra_config import HydraConfig

        @hydra.main(version_base=None, config_path="conf", config_name="config")
        def main(cfg):
            hc = HydraConfig.get()
            run_id = f"{cfg.model}-s{cfg.seed}"
            run_dir = Path(hc.sweep.dir) / "runs" / run_id
            run_dir.mkdir(parents=True)
            overrides = list(hc.overrides.task)
            record = {"run_id": run_id, "overrides": overrides, "seed": cfg.seed, "status": "completed"}
            (run_dir / "run.json").write_text(json.dumps(record))
            score = {"mlp": 0.4, "cnn1d": 0.6}[cfg.model] + 0.01 * cfg.seed
            (run_dir / "metrics.json").write_text(json.dumps({"adc2025": score}))

        if __name__ == "__main__":
            main()
    """)
    )
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "task.py", "--multirun", "model=mlp,cnn1d", "seed=0,1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    sweep = tmp_path / "sweep"
    assert f"Leaderboard: {sweep / 'leaderboard.md'}" in result.stdout
    document = json.loads((sweep / "leaderboard.json").read_text())
    assert document["n_completed"] == 4 and document["best_adc2025"] == 0.605
    assert document["factors"] == {"model": ["cnn1d", "mlp"]}

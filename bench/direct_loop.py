"""The reference side of the orchestration benchmark: the study's trainings in one Python loop.

``python -m bench.direct_loop --out DIR --runs '[[override, ...], ...]'`` composes each run's config
with Hydra's compose API (same config files, same overrides as the sweep) and calls
``spectramind.train.run_training`` on it, one after the other in this process: no sweeper, no
launcher, no pre-flight, no leaderboard. Run directories are ``DIR/runs/<n>``; their run.json
``started``/``ended`` let the caller split this process's wall time the same way as the sweep's.
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory for the run directories")
    parser.add_argument("--runs", required=True, help="JSON list of override lists, one per run")
    args = parser.parse_args()

    from hydra import compose, initialize_config_module

    from spectramind.fast_exit import skip_final_collection
    from spectramind.training import run_training

    with initialize_config_module("spectramind.conf", version_base="1.3"):
        for number, overrides in enumerate(json.loads(args.runs)):
            cfg = compose("config", overrides=overrides)
            run_training(cfg, run_dir=f"{args.out}/runs/{number}", overrides=overrides)
    # Exit the way spectramind.train.entry_point does (no final full collection): process teardown
    # is not orchestration, so it must cost the same on both sides.
    skip_final_collection()


if __name__ == "__main__":
    main()

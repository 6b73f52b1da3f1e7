"""The baseline of the resume benchmark: spectramind's Hydra app with a task that does nothing.

``python -m bench.noop_app --multirun [overrides]`` is ``python -m spectramind.train --multirun``
with the training taken out: the same config (``pkg://spectramind.conf``), so the same plugin
scan, the same ablation sweeper and basic launcher, the same leaderboard callback. With no
sweep overrides the sweeper plans a single run, which returns at once; the process exits the way
``spectramind.train.entry_point`` does. Its wall time is what
any multirun of the app costs before and after its runs, which is what resuming a finished
sweep should cost.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from spectramind.fast_exit import skip_final_collection


@hydra.main(version_base="1.3", config_path="pkg://spectramind.conf", config_name="config")
def main(cfg: DictConfig) -> None:
    return None


if __name__ == "__main__":
    skip_final_collection()  # exit the way spectramind.train.entry_point does
    main()

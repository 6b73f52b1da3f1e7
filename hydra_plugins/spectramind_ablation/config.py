"""Configuration of the ablation sweeper, registered as `hydra/sweeper=ablation`.

The options, their types and defaults are spectramind.ablation.study.StudyOptions', defined there
once (docs/studies.md lists them); this structured config adds only Hydra's `_target_`, so that
OmegaConf checks every `hydra.sweeper.*` override against the same fields the sweeper reads.
"""

from dataclasses import dataclass

from hydra.core.config_store import ConfigStore

from spectramind.ablation.study import StudyOptions

# spectramind's own app selects `hydra/sweeper=spectramind` (conf/hydra/sweeper/spectramind.yaml):
# this sweeper with the options its training needs. An app that offers that choice is refused the
# bare `ablation` one, which would silently leave them out (sweeper.py: refuse_bare_choice).
APP_CHOICE = "spectramind"


@dataclass
class AblationSweeperConf(StudyOptions):
    _target_: str = "hydra_plugins.spectramind_ablation.sweeper.AblationSweeper"


ConfigStore.instance().store(group="hydra/sweeper", name="ablation", node=AblationSweeperConf, provider="spectramind")

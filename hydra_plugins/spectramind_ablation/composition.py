"""PreComposedConfigs: the config loader the launcher sees, handing it the configs the pre-flight composed.

Why: the sweeper composes every planned run's config before launching anything (its pre-flight),
and every Hydra launcher then composes the same config again for the job (``load_sweep_config``).
With spectramind's config tree a composition costs ~60-70 ms, the largest item of a sweep's
orchestration overhead (docs/performance.md). The pre-flight composes exactly the overrides the
launcher will be given and keeps each result here, untouched (the pre-flight works on a copy),
to be handed out once: the launcher and the job mutate the config they get. A composed config
holds ~150 KB, so at most ``capacity`` are kept (256: ~40 MB); the runs of a larger sweep beyond
those are composed by the launcher as usual. A request for overrides that were not kept, or a
second request for the same ones (a retried run), falls through to Hydra's own loader, so a
missing entry can only cost time, never change a config.

Joblib and submitit ship the Hydra context to their worker processes; the kept configs stay
behind (``__getstate__``) and the workers compose as they always do.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from omegaconf import DictConfig

from hydra.core.config_loader import ConfigLoader
from hydra.core.object_type import ObjectType
from hydra.types import RunMode


class PreComposedConfigs(ConfigLoader):
    """Hydra's ``ConfigLoader`` interface over another loader, plus a store of composed configs."""

    def __init__(self, loader: ConfigLoader, capacity: int = 256) -> None:
        self.loader = loader
        self.capacity = capacity
        self._kept: Dict[Tuple[str, ...], Tuple[int, DictConfig]] = {}

    def keep(self, master_config: DictConfig, overrides: Sequence[str], config: DictConfig) -> bool:
        """Hand out ``config`` as ``load_sweep_config(master_config, overrides)``'s next answer,
        unless ``capacity`` configs are kept already; True if kept. The caller must not change it."""
        if len(self._kept) >= self.capacity and tuple(overrides) not in self._kept:
            return False
        self._kept[tuple(overrides)] = (id(master_config), config)
        return True

    def forget(self) -> None:
        self._kept.clear()

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: List[str]) -> DictConfig:
        entry = self._kept.pop(tuple(sweep_overrides), None)
        if entry is not None and entry[0] == id(master_config):
            return entry[1]
        return self.loader.load_sweep_config(master_config, sweep_overrides)

    def __getstate__(self) -> Dict[str, Any]:
        return {**self.__dict__, "_kept": {}}

    # The rest of the interface is the wrapped loader's.
    def load_configuration(self, config_name: Optional[str], overrides: List[str], run_mode: RunMode,
                           from_shell: bool = True, validate_sweep_overrides: bool = True) -> DictConfig:
        return self.loader.load_configuration(config_name, overrides, run_mode, from_shell=from_shell,
                                              validate_sweep_overrides=validate_sweep_overrides)

    def get_search_path(self):
        return self.loader.get_search_path()

    def get_sources(self):
        return self.loader.get_sources()

    def list_groups(self, parent_name: str) -> List[str]:
        return self.loader.list_groups(parent_name)

    def get_group_options(self, group_name: str, results_filter: Optional[ObjectType] = ObjectType.CONFIG,
                          config_name: Optional[str] = None, overrides: Optional[List[str]] = None) -> List[str]:
        return self.loader.get_group_options(group_name, results_filter, config_name, overrides)

    def compute_defaults_list(self, config_name: Optional[str], overrides: List[str], run_mode: RunMode) -> Any:
        return self.loader.compute_defaults_list(config_name, overrides, run_mode)

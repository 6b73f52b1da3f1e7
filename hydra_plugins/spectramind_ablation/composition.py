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

:class:`PreFlight` is that pre-flight: it composes each planned run's config as its job will see
it, runs the sweeper's ``validate`` function on it, keeps it here, and turns the first error into
one line naming the run and the override that broke it, before anything is launched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from hydra.core.config_loader import ConfigLoader
from hydra.core.hydra_config import HydraConfig
from hydra.core.object_type import ObjectType
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from spectramind.ablation.design import RunSpec
from spectramind.errors import first_line
from spectramind.tracking.identity import config_hash


class PreComposedConfigs(ConfigLoader):
    """Hydra's ``ConfigLoader`` interface over another loader, plus a store of composed configs."""

    def __init__(self, loader: ConfigLoader, capacity: int = 256) -> None:
        self.loader = loader
        self.capacity = capacity
        self._kept: dict[tuple[str, ...], tuple[int, DictConfig]] = {}

    def keep(self, master_config: DictConfig, overrides: Sequence[str], config: DictConfig) -> bool:
        """Hand out ``config`` as ``load_sweep_config(master_config, overrides)``'s next answer,
        unless ``capacity`` configs are kept already; True if kept. The caller must not change it."""
        if len(self._kept) >= self.capacity and tuple(overrides) not in self._kept:
            return False
        self._kept[tuple(overrides)] = (id(master_config), config)
        return True

    def forget(self) -> None:
        self._kept.clear()

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        entry = self._kept.pop(tuple(sweep_overrides), None)
        if entry is not None and entry[0] == id(master_config):
            return entry[1]
        return self.loader.load_sweep_config(master_config, sweep_overrides)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_kept": {}}

    # The rest of the interface is the wrapped loader's.
    def load_configuration(
        self,
        config_name: str | None,
        overrides: list[str],
        run_mode: RunMode,
        from_shell: bool = True,
        validate_sweep_overrides: bool = True,
    ) -> DictConfig:
        return self.loader.load_configuration(
            config_name, overrides, run_mode, from_shell=from_shell, validate_sweep_overrides=validate_sweep_overrides
        )

    def get_search_path(self):
        return self.loader.get_search_path()

    def get_sources(self):
        return self.loader.get_sources()

    def list_groups(self, parent_name: str) -> list[str]:
        return self.loader.list_groups(parent_name)

    def get_group_options(
        self,
        group_name: str,
        results_filter: ObjectType | None = ObjectType.CONFIG,
        config_name: str | None = None,
        overrides: list[str] | None = None,
    ) -> list[str]:
        return self.loader.get_group_options(group_name, results_filter, config_name, overrides)

    def compute_defaults_list(self, config_name: str | None, overrides: list[str], run_mode: RunMode) -> Any:
        return self.loader.compute_defaults_list(config_name, overrides, run_mode)


class PreFlight:
    """Composes and validates every planned run's config; the composed configs are kept in
    ``composed`` for the launcher."""

    def __init__(
        self,
        loader: ConfigLoader,
        master_config: DictConfig,
        composed: PreComposedConfigs,
        validate: Callable[[DictConfig], Any] | None,
        cost: Callable[[DictConfig], float | None] | None = None,
    ) -> None:
        self.loader = loader
        self.master_config = master_config
        self.composed = composed
        self.validate = validate
        self.cost = cost
        self.costs: dict[str, float | None] = {}  # each run's estimated cost, by run id (with ``cost``)

    def config_hashes(self, specs: Sequence[RunSpec], job_overrides: Callable[[RunSpec], list[str]]) -> dict[str, str]:
        """Each run's config hash, its config composed with the overrides its job will be
        launched with (``job_overrides``), and its estimated cost in ``costs``; the first error
        aborts the sweep, naming the run and the override that broke it."""
        hashes = {}
        for number, spec in enumerate(specs):
            try:
                config, self.costs[spec.run_id] = self._compose(job_overrides(spec), number, keep=True)
                hashes[spec.run_id] = config_hash(config)
            except Exception as exc:
                culprit = self._culprit(spec.overrides, number)
                where = f"override '{culprit}'" if culprit else f"overrides {' '.join(spec.overrides)!r}"
                raise ConfigCompositionException(
                    f"pre-flight check failed for run {spec.run_id}: {where}: {first_line(exc)} "
                    f"(run overrides: {' '.join(spec.overrides)}). Nothing was launched."
                ) from None
        return hashes

    def _compose(
        self, overrides: Sequence[str], number: int, keep: bool = False
    ) -> tuple[dict[str, Any], float | None]:
        """The run's resolved task config as its job will see it (``hydra:`` interpolations
        included), and its estimated cost (None without ``cost``); with ``keep``, the composed
        config is also kept for the launcher's request."""
        cfg = self.loader.load_sweep_config(self.master_config, list(overrides))
        if keep and self.composed.keep(self.master_config, overrides, cfg):
            cfg = copy.deepcopy(cfg)  # the kept one goes to the launcher as composed
        with read_write(cfg.hydra), open_dict(cfg.hydra):
            cfg.hydra.job.num = number
            cfg.hydra.job.id = f"preflight_{number}"
        saved = HydraConfig.instance().cfg
        HydraConfig.instance().set_config(cfg)
        try:
            task = copy.deepcopy(cfg)
            with read_write(task), open_dict(task):
                del task["hydra"]
            container = OmegaConf.to_container(task, resolve=True)
            if self.validate is not None:
                self.validate(task)
            return container, (self.cost(task) if keep and self.cost is not None else None)
        finally:
            HydraConfig.instance().cfg = saved

    def _culprit(self, overrides: Sequence[str], number: int) -> str | None:
        """The first override whose addition makes the run's config fail (None if none alone does)."""
        for end in range(1, len(overrides) + 1):
            try:
                self._compose(overrides[:end], number)
            except Exception:
                return overrides[end - 1]
        return None

"""Errors a user can fix: printed as one line, without a traceback, by every entry point."""

import re


class SpectramindError(Exception):
    """Base class for expected errors (bad input, missing files, bad configuration)."""


class DatasetError(SpectramindError):
    """A data file is missing, truncated, or has the wrong shape or columns; the message names it."""


class ConfigurationError(SpectramindError):
    """A configuration value or override is invalid; the message names it."""


class TrainingDiverged(SpectramindError):
    """The training loss became non-finite; the run is recorded as `diverged`."""


def first_line(exc: BaseException) -> str:
    """An exception's message as one line (its first), or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def hydra_error_line(exc: BaseException) -> str:
    """Hydra's multi-line error report as one line: tab-indented list items joined by commas,
    the config search path and documentation links dropped, the offending override named."""
    text = str(exc).split("Config search path:")[0]
    pieces: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("See https://"):
            continue
        if raw.startswith(("\t", "  ")) and pieces:
            pieces[-1] += f" {line}" if pieces[-1].endswith(":") else f", {line}"
        else:
            pieces.append(line.rstrip("."))
    message = "; ".join(pieces) or type(exc).__name__
    override = getattr(exc, "override", None)
    if override and str(override) not in message:
        message = f"override '{override}': {message}"
    return message


# The Hydra plugins the docs name, by the config-group option each adds: what installs it. Without
# the plugin Hydra only says "Could not find 'hydra/launcher/ray'", which reads like a typo.
PLUGIN_INSTALL = {
    "hydra/launcher/joblib": "hydra-joblib-launcher",  # a dependency of spectramind: a broken install
    "hydra/launcher/submitit_local": "'spectramind[submitit]'",
    "hydra/launcher/submitit_slurm": "'spectramind[submitit]'",
    "hydra/launcher/ray": "'spectramind[ray]'",
    "hydra/launcher/ray_aws": "'spectramind[ray]'",
    "hydra/launcher/rq": "hydra-rq-launcher",
    "hydra/sweeper/optuna": "'spectramind[optuna]'",
    "hydra/sweeper/nevergrad": "hydra-nevergrad-sweeper",
    "hydra/sweeper/ax": "hydra-ax-sweeper",
}
_MISSING_OPTION = re.compile(r"Could not find '([^']+)'")


def missing_plugin_hint(message: str) -> str | None:
    """``pip install ...`` for a Hydra error about a launcher or sweeper that is not installed,
    or None when the message is about anything else."""
    found = _MISSING_OPTION.search(message)
    package = PLUGIN_INSTALL.get(found.group(1)) if found else None
    if package is None:
        return None
    group, _, option = found.group(1).rpartition("/")
    return f"{group}={option} needs a Hydra plugin that is not installed: pip install {package}"


def user_error_message(exc: BaseException) -> str | None:
    """One line for an error the user can fix, or None for a bug (which keeps its traceback).

    User errors: Hydra's and OmegaConf's (unknown key, bad type, missing config-group option,
    failed pre-flight), malformed YAML in a config file, a path that cannot be written or read
    (``hydra.run.dir`` under a regular file, a read-only disk), and spectramind's expected errors.
    """
    import yaml
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, (HydraException, OmegaConfBaseException)):
        message = hydra_error_line(exc)
        hint = missing_plugin_hint(message)
        if hint:
            return hint
        cause = exc.__cause__  # Hydra keeps OmegaConf's reason (the offending value) here
        if isinstance(cause, OmegaConfBaseException) and str(cause).strip():
            message += f": {first_line(cause)}"
        return message
    if isinstance(exc, yaml.YAMLError):
        return "malformed YAML: " + " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or type(exc).__name__}"
    if isinstance(exc, SpectramindError):
        return " ".join(str(exc).split())
    return None

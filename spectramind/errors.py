"""Errors a user can fix: printed as one line, without a traceback, by every entry point."""


class SpectramindError(Exception):
    """Base class for expected errors (bad input, missing files, bad configuration)."""


class DatasetError(SpectramindError):
    """A data file is missing, truncated, or has the wrong shape or columns; the message names it."""


class ConfigurationError(SpectramindError):
    """A configuration value or override is invalid; the message names it."""


class TrainingDiverged(SpectramindError):
    """The training loss became non-finite; the run is recorded as `diverged`."""


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

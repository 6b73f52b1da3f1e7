"""Errors a user can fix: printed as one line, without a traceback, by every entry point."""


class SpectramindError(Exception):
    """Base class for expected errors (bad input, missing files, bad configuration)."""


class DatasetError(SpectramindError):
    """A data file is missing, truncated, or has the wrong shape or columns; the message names it."""


class ConfigurationError(SpectramindError):
    """A configuration value or override is invalid; the message names it."""


class TrainingDiverged(SpectramindError):
    """The training loss became non-finite; the run is recorded as `diverged`."""

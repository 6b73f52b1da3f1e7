"""The 283 channels of a spectrum: how many, which detector each belongs to, how the score weighs them.

Why a module of its own: metrics, models, the leaderboard and the data layout all need these facts,
and none of them should have to import another's I/O or training code to get them. Channel 1
(``wl_1``) is the FGS1 photometer at 0.7 um; channels 2..283 are the AIRS-CH0 spectrometer's bins in
ascending wavelength, as in the competition's files.
"""

from __future__ import annotations

N_WAVELENGTHS = 283
# Channels per detector, as slices of a spectrum: FGS1 (one channel) and AIRS-CH0 (282).
DETECTORS: dict[str, slice] = {"fgs1": slice(0, 1), "airs": slice(1, N_WAVELENGTHS)}
# The adc2025 score's weight of the FGS1 cell (each AIRS cell weighs 1).
FGS1_WEIGHT = 57.846

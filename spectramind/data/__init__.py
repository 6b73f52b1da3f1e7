"""Data: the light-curve layout and the DataModule over it, the instrument both simulators share, and
three sub-packages: ``sim`` (the light-curve simulator), ``raw`` (the competition's raw frames:
simulated, read and calibrated) and ``features`` (the depths the models read)."""

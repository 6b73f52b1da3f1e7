"""The competition's raw data: its layout, the detector and the raw-frame simulator, and the
calibration of raw frames into the light-curve layout."""

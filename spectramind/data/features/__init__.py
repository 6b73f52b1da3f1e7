"""Per-planet, per-channel depths and errors measured from the light curves (the models' inputs):
where the transit is, windowed depths, the classical transit fit, and their cache."""

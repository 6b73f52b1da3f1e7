"""spectramind: train and ablate models that predict exoplanet transmission spectra.

The package is importable without Hydra; `spectramind.train` is the Hydra entry point and
`hydra_plugins.spectramind_ablation` the ablation sweeper. Heavy modules (torch, Lightning)
are imported only by the submodules that need them, so `import spectramind` stays cheap.
"""

__version__ = "0.1.0"

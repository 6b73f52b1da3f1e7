"""Hydra sweeper plugin `hydra/sweeper=ablation` (spectramind). Kept import-light on purpose:
Hydra imports every module under `hydra_plugins` at start-up; torch is never imported here."""

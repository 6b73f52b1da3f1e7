"""The predictive-quality report of docs/quality.md, from a finished ``quality`` study.

``python -m bench.quality SWEEP_DIR [--images DIR]`` reads the sweep the way the leaderboard does
(``spectramind.leaderboard``: collate, stats) and prints the table of docs/quality.md: every
configuration's validation and test adc2025 over seeds (test also per detector), its share of the
top reference, RMSE and training time, with the naive baseline and the references as rows. With
``--images`` it also draws the two figures of that page from the best run's and the classical fit's
predictions: the per-wavelength error and the z-score distribution against N(0, 1) (the same
quantities as the diagnostics of leaderboard.html).

Run the study first: ``spectramind ablate run quality --sweep-dir multirun/quality``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from spectramind.leaderboard.collate import collate_runs
from spectramind.leaderboard.figures import Z_EDGES, classical_fit_run
from spectramind.leaderboard.stats import compute_stats
from spectramind.leaderboard.text import REFERENCE_LABELS, format_number, format_percent, reference_column
from spectramind.sweep_layout import PREDICTIONS_FILE
from spectramind.tracking.artifacts import read_predictions


def quality_table(table, stats) -> str:
    """The markdown table of every configuration (validation, then test overall and per detector),
    between the naive baseline and the two references of the same test split."""
    top = reference_column(stats) or "% of reference"
    lines = [
        f"| Configuration | val adc2025 | test adc2025, mean ± std (seeds) | test FGS1 | test AIRS | {top} | "
        "RMSE (ppm) | train time (s) |",
        "|---|---|---|---|---|---|---|---|",
        "| naive (training labels' mean and std) | 0 | 0 | 0 | 0 | 0 % | | |",
    ]

    def cell(row: dict, name: str) -> str:
        return format_number(row.get(f"{name}_mean", math.nan))

    for row in stats.ranked.to_dict("records"):
        if not row["adc2025_n"]:
            continue
        lines.append(
            f"| {row['label']}{' (baseline)' if row['config_id'] == stats.baseline_config_id else ''} | "
            f"{cell(row, 'val_adc2025')} | "
            f"{format_number(row['adc2025_mean'])} ± {format_number(row['adc2025_std'])} ({int(row['adc2025_n'])}) | "
            f"{cell(row, 'adc2025_fgs1')} | {cell(row, 'adc2025_airs')} | "
            f"{format_percent(row.get('fraction_of_reference'))} | {format_number(row['rmse_ppm_mean'])} | "
            f"{format_number(row['train_time_s_mean'])} |"
        )
    for name, value in stats.references.items():
        detectors = stats.reference_detectors.get(name, {})
        lines.append(
            f"| {REFERENCE_LABELS[name]} (noise truth, same split) | | {format_number(value)} | "
            f"{format_number(detectors.get('fgs1', math.nan))} | {format_number(detectors.get('airs', math.nan))} | "
            f"{format_percent(value / list(stats.references.values())[-1])} | | |"
        )
    return "\n".join(lines)


def draw(table, runs: dict[str, str | None], out_dir: Path) -> list[Path]:
    """quality_error.png and quality_zscores.png for the given runs (role -> run id)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    loaded = {
        role: read_predictions(table.run_dir(run_id) / PREDICTIONS_FILE)
        for role, run_id in runs.items()
        if run_id is not None
    }
    error_plot, z_plot = plt.subplots(figsize=(8, 3.2)), plt.subplots(figsize=(5, 3.2))
    for (role, (y, mu, sigma)), color in zip(loaded.items(), ("tab:green", "tab:blue")):
        rms = np.sqrt(((mu - y) ** 2).mean(axis=0)) * 1e6
        mean_sigma = (sigma * 1e6).mean(axis=0)
        error_plot[1].plot(np.arange(2, 284), rms[1:], color=color, label=f"{role}: RMS(μ − y), FGS1 ●")
        error_plot[1].plot(np.arange(2, 284), mean_sigma[1:], color=color, ls=":", label=f"{role}: mean σ, FGS1 ○")
        error_plot[1].scatter([1], [rms[0]], color=color, marker="o")
        error_plot[1].scatter([1], [mean_sigma[0]], facecolors="none", edgecolors=color, marker="o")
        z = ((mu - y) / sigma).ravel()
        z_plot[1].hist(z[np.isfinite(z)], bins=Z_EDGES, density=True, histtype="step", color=color, label=role)
    error_plot[1].set(
        xlabel="wavelength index (1 = FGS1, 2-283 = AIRS-CH0)",
        ylabel="ppm",
        yscale="log",
        title="Per-wavelength error of the test split",
    )
    z_plot[1].plot(Z_EDGES, np.exp(-(Z_EDGES**2) / 2) / math.sqrt(2 * math.pi), "k--", label="N(0, 1)")
    z_plot[1].set(xlabel="z = (μ − y)/σ", ylabel="density", title="z-scores over all cells")
    paths = []
    for (figure, axes), name in ((error_plot, "quality_error.png"), (z_plot, "quality_zscores.png")):
        axes.legend(fontsize=7)
        figure.tight_layout()
        figure.savefig(out_dir / name, dpi=110)
        paths.append(out_dir / name)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--images", type=Path, default=None, help="where to write the two PNG figures")
    args = parser.parse_args()
    table = collate_runs(args.sweep_dir)
    stats = compute_stats(table, "adc2025")
    runs = {"best": stats.best_run_id, "classical fit": classical_fit_run(table, stats)}
    print(quality_table(table, stats))
    print(f"\nbest run: {runs['best']}; classical fit: {runs['classical fit']}")
    if args.images is not None:
        for path in draw(table, runs, args.images):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()

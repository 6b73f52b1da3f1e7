"""``spectramind data``: simulate light curves or the competition's raw frames, calibrate raw
frames, compare simulated spectra with real ones.

The choices are spelled out as Enums here instead of imported from the data modules, so that
``--help`` imports no numpy; tests/cli/test_cli_help.py checks that they equal the modules' own.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from spectramind.cli.options import EXISTING_DIR, fail

data_app = typer.Typer(
    help="Data sets: simulate light curves or the competition's raw frames, calibrate raw frames, "
    "compare simulated spectra with real ones.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class DataFormat(str, Enum):
    """What `spectramind data simulate` writes."""

    light_curves = "light-curves"
    adc2025_raw = "adc2025-raw"
    adc2024_raw = "adc2024-raw"


class PopulationName(str, Enum):
    """The simulator's population presets (spectramind.data.sim.population.POPULATIONS)."""

    adc2024 = "adc2024"
    legacy = "legacy"


class Split(str, Enum):
    train = "train"
    test = "test"


class Extraction(str, Enum):
    optimal = "optimal"
    box = "box"


class Backend(str, Enum):
    loky = "loky"
    ray = "ray"


# ``data simulate``'s layout-specific options, declared apart to keep the command's signature readable
_N_TIME_OPTION = typer.Option(
    None,
    "--n-time",
    min=16,
    metavar="N",
    show_default=False,
    help="Time samples per light curve (light-curves only) [default: 187, "
    "the competition's 144 s bins over a 7.5 h visit].",
)
_AIRS_FRAMES_OPTION = typer.Option(
    None,
    "--airs-frames",
    min=4,
    metavar="F",
    show_default=False,
    help="AIRS-CH0 reads per visit, even (raw formats; FGS1 gets 12x) [default: the real 11250].",
)


@data_app.command("simulate")
def data_simulate(
    out: Path = typer.Option(
        Path("data/simulated"), "--out", metavar="DIR", help="Output folder (must not exist or be empty)."
    ),
    data_format: DataFormat = typer.Option(
        DataFormat.light_curves,
        "--format",
        help="light-curves: the fast layout models train on; adc2025-raw / "
        "adc2024-raw: the competition's raw detector frames and calibration "
        "files (then `spectramind data calibrate`).",
    ),
    n_planets: int | None = typer.Option(
        None,
        "--n-planets",
        min=1,
        metavar="N",
        show_default=False,
        help="Number of planets [default: 800; raw formats 40].",
    ),
    n_time: int | None = _N_TIME_OPTION,
    population: PopulationName = typer.Option(
        PopulationName.adc2024,
        "--population",
        help="Planet population: adc2024 (spectra like the real ADC 2024 "
        "labels) or legacy (the deeper spectra of format 2).",
    ),
    airs_frames: int | None = _AIRS_FRAMES_OPTION,
    seed: int | None = typer.Option(
        None,
        "--seed",
        metavar="INT",
        show_default=False,
        help="Random seed; the same settings give byte-identical files [default: 20250].",
    ),
) -> None:
    """Generate a simulated data set: Ariel-like light curves, or the competition's raw frames.

    The raw formats render the same planets' light curves through a detector model (trace, PSF,
    dark current, read noise, dead and hot pixels, flat field, non-linearity, ADC, saturation)
    into the competition's files, plus test_solution.csv and simulation.json (docs/real-data.md).
    """
    if data_format is DataFormat.light_curves:
        if airs_frames is not None:
            fail("--airs-frames applies to the raw formats (--format adc2025-raw or adc2024-raw)")
        typer.echo(str(_simulate_light_curves(out, n_planets, n_time, seed, population)))
        return
    if n_time is not None:
        fail("--n-time applies to --format light-curves; the raw formats take --airs-frames")
    typer.echo(str(_simulate_raw(out, data_format, n_planets, airs_frames, seed, population)))


def _simulate_light_curves(
    out: Path, n_planets: int | None, n_time: int | None, seed: int | None, population: PopulationName
) -> Path:
    """The fast simulator; an option left out keeps :class:`SimulationConfig`'s default."""
    from spectramind.data.sim.config import SimulationConfig
    from spectramind.data.sim.writer import simulate_dataset

    chosen = {"n_planets": n_planets, "n_time": n_time, "seed": seed, "population": population.value}
    return simulate_dataset(out, SimulationConfig(**{k: v for k, v in chosen.items() if v is not None}))


def _simulate_raw(
    out: Path,
    data_format: DataFormat,
    n_planets: int | None,
    airs_frames: int | None,
    seed: int | None,
    population: PopulationName,
) -> Path:
    """The raw-frame simulator in the competition's ``data_format``; an option left out keeps
    the raw defaults (``RAW_PHYSICS``, :class:`RawSimulationConfig`)."""
    import dataclasses

    from spectramind.data.raw.simulate import FORMATS, RAW_PHYSICS, RawSimulationConfig, simulate_raw_dataset

    physics = dataclasses.replace(
        RAW_PHYSICS,
        population=population.value,
        **{k: v for k, v in (("n_planets", n_planets), ("seed", seed)) if v is not None},
    )
    chosen = {"airs_frames": airs_frames} if airs_frames is not None else {}
    return simulate_raw_dataset(out, RawSimulationConfig(physics=physics, variant=FORMATS[data_format.value], **chosen))


@data_app.command("compare")
def data_compare(
    simulated: Path = typer.Argument(
        ...,
        metavar="SIM_LABELS",
        help="Labels to check: a train.csv (or a data folder holding one), e.g. data/simulated/train.csv.",
    ),
    real: Path | None = typer.Argument(
        None,
        metavar="REAL_LABELS",
        show_default=False,
        help="Labels to hold them against, e.g. the competition's train.csv or "
        "train_labels.csv [default: the real ADC 2024 labels' statistics].",
    ),
) -> None:
    """Compare two sets of spectra: depths, feature sizes, FGS1 offsets and shapes, side by side.

    Prints a markdown table (docs/realism.md explains each statistic) and whether every depth,
    range and FGS1 - AIRS percentile lies within a factor 1.5 of the reference.
    """
    from spectramind.data.sim.realism import compare_label_files

    typer.echo(compare_label_files(simulated, real))


def _planet_list(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(word) for word in text.split(",") if word.strip()]
    except ValueError:
        fail(f"--planets {text!r}: expected planet ids separated by commas, e.g. 34983,1873185")


@data_app.command("calibrate")
def data_calibrate(
    raw_dir: Path = typer.Argument(
        ...,
        metavar="RAW_DIR",
        help="A folder in the competition's layout (ADC 2025 or 2024), downloaded or simulated.",
        **EXISTING_DIR,
    ),
    out_dir: Path = typer.Argument(
        ...,
        metavar="OUT_DIR",
        help="Calibrated folder to write or resume (the light-curve "
        "layout: train with data=adc data.data_dir=OUT_DIR).",
    ),
    split: Split = typer.Option(Split.train, "--split", help="Which split's planets to calibrate."),
    airs_bin: int = typer.Option(30, "--airs-bin", min=1, metavar="N", help="AIRS CDS frames summed per time bin."),
    fgs_bin: int = typer.Option(360, "--fgs-bin", min=1, metavar="N", help="FGS1 CDS frames summed per time bin."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, metavar="N", help="Planets calibrated at the same time."),
    planets: str | None = typer.Option(
        None,
        "--planets",
        metavar="ID,...",
        show_default=False,
        help="Only these planets [default: every planet of the split].",
    ),
    extraction_method: Extraction = typer.Option(
        Extraction.optimal, "--extraction", help="Spatial extraction: optimal (profile-weighted) or box sum."
    ),
    backend: Backend = typer.Option(
        Backend.loky,
        "--backend",
        help="Where --workers run: loky (this machine) or ray (a task per planet: RAY_ADDRESS, else a local cluster).",
    ),
) -> None:
    """Calibrate raw frames into light curves: ADC, masks, linearity, dark, CDS, flat, extraction, binning.

    Resumable: planets already in OUT_DIR are skipped. A planet that fails is recorded in
    OUT_DIR/calibration.json and the others go on; the command then lists the failures and exits 1.
    """
    from spectramind.data.raw.calibrate import calibrate_folder
    from spectramind.data.raw.reduction import CalibrationParams

    chosen = _planet_list(planets)
    params = CalibrationParams(airs_bin=airs_bin, fgs_bin=fgs_bin, extraction=extraction_method.value)
    manifest = calibrate_folder(
        raw_dir,
        out_dir,
        split=split.value,
        params=params,
        workers=workers,
        planets=chosen,
        backend=backend.value,
        progress=_report_planet,
    )
    statuses = manifest["planets"]
    selected = [str(p) for p in chosen] if chosen else list(statuses)
    failed = [(pid, statuses[pid]["error"]) for pid in selected if statuses[pid]["status"] == "failed"]
    typer.echo(f"{out_dir}: {manifest['counts']['completed']} planet(s) calibrated, {len(failed)} failed")
    for pid, error in failed:
        typer.echo(f"error: planet {pid}: {error}", err=True)
    raise typer.Exit(1 if failed else 0)


def _report_planet(result: dict, count: int, total: int) -> None:
    """One stderr line per planet as calibration goes (stdout keeps the command's result)."""
    if result["status"] == "completed":
        what = f"completed ({result['visits']} visit{'s' if result['visits'] > 1 else ''}, {result['seconds']:.1f} s)"
    elif result["status"] == "failed":
        what = f"FAILED: {result['error']}"
    else:  # settled by another process calibrating into the same folder
        what = f"{result['outcome']} by another process"
    typer.echo(f"[calibrate] {count}/{total} planet {result['planet_id']}: {what}", err=True)

#!/usr/bin/env bash
# CPU vs GPU for the default model and the deep backbones (trainer=cpu with every core vs trainer=gpu:
# CUDA, mixed precision, 4 loader workers), same data and config otherwise, then the design's 4-run
# study on the GPU. Run on a GPU machine from the repository root; writes ${OUT:-/tmp/gpu-out}/gpu.json.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
EPOCHS=${EPOCHS:-3}
work=$(mktemp -d); export SPECTRAMIND_DATA_DIR="$work/data" PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "
from spectramind.data.sim.config import SimulationConfig
from spectramind.data.sim.writer import ensure_dataset
ensure_dataset('$work/data/simulated', SimulationConfig(seed=0))"
TIMEFORMAT="%R"
timed() { local name=$1; shift
  local wall; wall=$( { time "$@" > "$work/$name.log" 2>&1; } 2>&1 )
  echo "$name wall=${wall}s" | tee -a "$work/walls.txt"; tail -2 "$work/$name.log"; }
for model in spectral_prior resnet50 vit; do
  timed "$model-cpu" python3 -m spectramind.train hydra.run.dir="$work/$model-cpu" model=$model trainer=cpu \
    num_threads=null training.epochs="$EPOCHS"
  timed "$model-gpu" python3 -m spectramind.train hydra.run.dir="$work/$model-gpu" model=$model trainer=gpu \
    data.num_workers=4 training.epochs="$EPOCHS"
done
timed design-study spectramind ablate run model=resnet50,vit optimizer.lr=0.001,0.01 training.epochs=10 \
  trainer=gpu data.num_workers=4 --sweep-dir "$work/design"
python3 - "$work" "$OUT/gpu.json" <<'PY'
import json, sys, pathlib
work, out = pathlib.Path(sys.argv[1]), sys.argv[2]
walls = dict(line.replace("wall=", "").rstrip("s").split() for line in (work / "walls.txt").read_text().splitlines())
summary = {"walls_s": {k: float(v) for k, v in walls.items()}}
for model in ("spectral_prior", "resnet50", "vit"):
    fits = {}
    for device in ("cpu", "gpu"):
        run_dir = work / f"{model}-{device}"
        if not (run_dir / "run.json").exists():
            summary[f"{model}-{device}"] = {"status": "no run.json"}
            continue
        run = json.loads((run_dir / "run.json").read_text())
        metrics = json.loads((run_dir / "metrics.json").read_text()) if (run_dir / "metrics.json").exists() else {}
        fits[device] = run["durations"].get("fit_s")
        summary[f"{model}-{device}"] = {"status": run["status"], "durations": run["durations"], "device": run["device"],
                                        "fields": sorted(run), "adc2025": metrics.get("adc2025"), "error": run["error"]}
    if all(fits.get(d) for d in ("cpu", "gpu")):
        summary[f"{model}_fit_speedup"] = round(fits["cpu"] / fits["gpu"], 2)
sweep = work / "design" / "sweep.json"
if sweep.exists():
    summary["design_study_statuses"] = [r["status"] for r in json.loads(sweep.read_text())["runs"]]
pathlib.Path(out).write_text(json.dumps(summary, indent=2))
print(json.dumps(summary, indent=2))
PY

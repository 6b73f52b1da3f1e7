#!/usr/bin/env bash
# Default training on CPU vs GPU (trainer=gpu: CUDA, bf16-mixed), same data and config otherwise.
# Run on a GPU machine from the repository root; writes a summary to ${OUT:-/tmp/gpu-out}/gpu.json.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
work=$(mktemp -d); export SPECTRAMIND_DATA_DIR="$work/data" PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "
from spectramind.data.simulate import SimulationConfig, ensure_dataset
ensure_dataset('$work/data/simulated', SimulationConfig(seed=0))"
TIMEFORMAT="%R"
timed() { local name=$1; shift
  local wall; wall=$( { time python3 -m spectramind.train hydra.run.dir="$work/$name" "$@" > "$work/$name.log" 2>&1; } 2>&1 )
  echo "$name wall=${wall}s"; tail -3 "$work/$name.log"; }
timed cpu trainer=cpu
timed gpu trainer=gpu
python3 - "$work" "$OUT/gpu.json" <<'PY'
import json, sys, pathlib
work, out = pathlib.Path(sys.argv[1]), sys.argv[2]
summary = {}
for name in ("cpu", "gpu"):
    if not (work / name / "run.json").exists():
        summary[name] = {"status": "no run.json"}
        continue
    run = json.loads((work / name / "run.json").read_text())
    metrics = json.loads((work / name / "metrics.json").read_text()) if (work / name / "metrics.json").exists() else {}
    summary[name] = {"status": run["status"], "durations": run["durations"], "device": run["device"],
                     "adc2025": metrics.get("adc2025"), "gll": metrics.get("gll"), "error": run["error"]}
pathlib.Path(out).write_text(json.dumps(summary, indent=2))
print(json.dumps(summary, indent=2))
PY

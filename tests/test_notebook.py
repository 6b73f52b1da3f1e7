"""docs/notebooks/quickstart.ipynb runs top to bottom and draws its spectrum plot (so it cannot rot)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # trains models or runs sweeps end to end: the full loop only

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "quickstart.ipynb"
KERNEL = "spectramind-tests"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _register_kernel(jupyter_dir: Path) -> None:
    """A kernel spec running this interpreter (whatever `python3` kernels the machine has)."""
    spec = jupyter_dir / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "spectramind tests",
                "language": "python",
            }
        )
    )


def test_quickstart_notebook_executes_and_plots(tmp_path, monkeypatch):
    _register_kernel(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("SPECTRAMIND_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, kernel_name=KERNEL, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) == 1
    assert base64.b64decode(images[0]["data"]["image/png"]).startswith(PNG_SIGNATURE)
    # The data set went where the notebook says, and the model was really trained and scored.
    assert (tmp_path / "data" / "notebook" / "train.csv").is_file()
    scores = next(o for o in outputs if o.output_type == "execute_result" and "adc2025" in o["data"]["text/plain"])
    assert "rmse_ppm" in scores["data"]["text/plain"]
    assert "within ±1σ" in "".join(o.get("text", "") for o in outputs if o.output_type == "stream")

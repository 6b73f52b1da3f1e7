"""Security: sweep records are data that may come from anyone (a shared cluster folder, a tampered
manifest), checkpoints likewise. Expected: every config- or error-derived string is inert in the
leaderboard (no attribute injection, no ``</script>`` break-out, no markup in Markdown); no
checkpoint is unpickled beyond tensors (``weights_only=True``) anywhere, and a checkpoint carrying
a pickled payload is refused without running it; YAML only through OmegaConf or safe loaders, no
eval/exec, nothing written outside the sweep directory (see also test_kill_and_resume)."""

from __future__ import annotations

import ast
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from leaderboard.figures import figure_blocks, figure_strings
from leaderboard.synthetic_sweep import FakeRun, write_sweep
from sweep_helpers import manifest

from spectramind.errors import DatasetError
from spectramind.leaderboard.build import build_leaderboard

from .battery import files_outside

REPOSITORY = Path(__file__).resolve().parents[2]

# Payloads for every context a sweep string can reach: element content, a quoted attribute (both
# quote styles), a script element (the figures' JSON), Markdown. Each fits in a file name.
PAYLOADS = {
    "study": "</script><script>window.__pwned='study'</script>",
    "key": "lr' onmouseover='window.__pwned=1",
    "level": '"><img src=x onerror="window.__pwned=2">',
    "level2": "</SCRIPT><svg onload=window.__pwned=3>",
    "config_id": "cfg' autofocus onfocus='window.__pwned=4",
    "error": "boom</pre></td><script>window.__pwned=5</script>",
    "traceback": "Traceback</pre><iframe srcdoc='<script>window.__pwned=6</script>'>",
    "device": 'cpu"><base href=//evil.example>',
    "stray_dir": "x'><svg onload=window.__pwned=7>",  # a directory name: no '/'
}


def _sweep(root: Path, text) -> Path:
    """A sweep whose every sweep-derived string is ``text(name)``: a completed baseline, a
    completed run, a failed run (error and traceback), a run directory the manifest does not list
    (a collation warning), and a tampered manifest config id that points outside the sweep."""
    key, level, level2 = text("key"), text("level"), text("level2")
    error = {"type": "RuntimeError", "message": text("error"), "traceback": text("traceback")}
    runs = [
        FakeRun({key: level}, 0, is_baseline=True),
        FakeRun({key: level2}, 0),
        FakeRun({key: level2}, 1, status="failed", error=error),
        FakeRun({key: "0.1"}, 0, config_id=text("config_id"), run_id="plain-run-id"),
        FakeRun({key: "0.2"}, 0, config_id="../../../outside", run_id="tampered"),
    ]
    sweep = write_sweep(root, {key: [level, level2, "0.1", "0.2"]}, runs, baseline={key: level}, study=text("study"))
    for run in runs:
        record_path = sweep.dir / "runs" / run.run_id / "run.json"
        record = json.loads(record_path.read_text())
        record["device"] = text("device")
        record_path.write_text(json.dumps(record))
    stray = sweep.dir / "runs" / text("stray_dir")
    shutil.copytree(sweep.dir / "runs" / runs[1].run_id, stray)
    return sweep.dir


class _Structure(HTMLParser):
    """The element and attribute-name skeleton of a page (text and attribute values left out)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skeleton: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.skeleton.append(("start", tag, tuple(sorted(name for name, _ in attrs))))

    def handle_endtag(self, tag):
        self.skeleton.append(("end", tag))


def skeleton(page: str) -> list[tuple]:
    parser = _Structure()
    parser.feed(page)
    return parser.skeleton


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, dict[str, str]]:
    """leaderboard.html and .md of the hostile sweep and of the same sweep with harmless strings."""
    root = tmp_path_factory.mktemp("hostile")
    built = {}
    for name, text in (("hostile", PAYLOADS.__getitem__), ("benign", lambda field: f"plain_{field}")):
        sweep_dir = _sweep(root / name / "sweep", text)
        written = build_leaderboard(sweep_dir, top_n=5)
        built[name] = {
            "html": written["html"].read_text(),
            "md": written["markdown"].read_text(),
            "dir": sweep_dir,
            "root": root / name,
        }
    return built


def test_hostile_strings_change_no_element_or_attribute_of_the_page(pages):
    """Attribute injection, tag injection and ``</script>`` break-out would each add an element or
    attribute; the hostile page must have exactly the benign page's skeleton."""
    assert skeleton(pages["hostile"]["html"]) == skeleton(pages["benign"]["html"])
    assert "window.__pwned" in pages["hostile"]["html"]  # the payloads are on the page, as text


def test_no_hostile_string_appears_unescaped(pages):
    page = pages["hostile"]["html"]
    plotly_end = page.index("</script>")  # the embedded plotly.js bundle comes first
    rest = page[plotly_end:]
    for payload in PAYLOADS.values():
        assert payload not in rest, payload
    for marker in ("<img", "<svg", "<iframe", "<base"):  # shown as text they read &lt;img ...
        assert marker not in rest.lower(), marker


def test_figure_data_cannot_break_out_and_its_text_is_escaped(pages):
    blocks = figure_blocks(pages["hostile"]["html"])
    assert blocks
    for block in blocks:
        assert "<" not in block and ">" not in block and "&" not in block.replace("\\u0026", "")
    strings = figure_strings(pages["hostile"]["html"])
    assert any("__pwned" in text for _, text in strings)
    # plotly renders titles, names, hover text and category labels as HTML-like markup, so the
    # values in them are escaped; only the parallel-coordinates tick text is set as a plain text
    # node (tests/leaderboard/test_browser.py), and so carries the raw level
    raw = [
        (key, text) for key, text in strings for payload in PAYLOADS.values() if payload in text and key != "ticktext"
    ]
    assert raw == []


def test_markdown_shows_markup_as_text(pages):
    text = pages["hostile"]["md"]
    assert "pwned" in text
    for marker in ("<script", "</script", "<img", "<svg", "<iframe", "<base"):
        assert marker not in text.lower(), marker


def test_a_tampered_config_id_writes_nothing_outside_the_sweep(pages):
    for name in ("hostile", "benign"):
        sweep_dir = pages[name]["dir"]
        assert files_outside(pages[name]["root"], sweep_dir) == []
        folders = [p.name for p in (sweep_dir / "ablation_results").iterdir() if p.is_dir()]
        assert folders and all(re.fullmatch(r"[A-Za-z0-9._-]+", f) and ".." not in f for f in folders), folders


# ---------------------------------------------------------------- checkpoints
class _Payload:
    """Unpickling this runs ``Path.touch(marker)``: a stand-in for arbitrary code in a checkpoint."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def poisoned_checkpoint(tmp_path) -> tuple[Path, Path]:
    """(checkpoint with a pickled payload, the file the payload would create), in a run directory
    laid out like a real one (its resolved config two levels up, as predict expects)."""
    marker = tmp_path / "payload-ran"
    checkpoint = tmp_path / "run" / "checkpoints" / "last.ckpt"
    checkpoint.parent.mkdir(parents=True)
    torch.save({"state_dict": {}, "epoch": 0, "hook": _Payload(marker)}, checkpoint)
    return checkpoint, marker


def test_the_payload_is_live_when_unpickled_unsafely(poisoned_checkpoint):
    """Control: without weights_only the checkpoint does run its payload (so the tests below,
    where it must not, test something)."""
    checkpoint, marker = poisoned_checkpoint
    torch.load(checkpoint, weights_only=False)
    assert marker.exists()


def test_resume_refuses_a_checkpoint_with_a_payload(poisoned_checkpoint):
    from spectramind.tracking.artifacts import resumable_checkpoint

    checkpoint, marker = poisoned_checkpoint
    run_dir = checkpoint.parent.parent
    path, note = resumable_checkpoint(
        run_dir, {"status": "running", "config_hash": "h"}, {"config_hash": "h", "run_id": "r"}
    )
    assert path is None and note.startswith(f"checkpoint {checkpoint} is unreadable (")
    assert not marker.exists()


def test_predict_refuses_a_checkpoint_with_a_payload(poisoned_checkpoint, fault_sweep, tiny_data_dir, tmp_path):
    from spectramind.predict import predict_folder

    checkpoint, marker = poisoned_checkpoint
    completed = next(r for r in manifest(fault_sweep["sweep_dir"])["runs"] if r["status"] == "completed")
    shutil.copyfile(
        fault_sweep["sweep_dir"] / "runs" / completed["run_id"] / "config_resolved.yaml",
        checkpoint.parent.parent / "config_resolved.yaml",
    )
    with pytest.raises(DatasetError, match=f"checkpoint {checkpoint} is unreadable"):
        predict_folder(checkpoint, tiny_data_dir, tmp_path / "submission.csv")
    assert not marker.exists()


def test_lightning_resume_with_weights_only_refuses_a_payload(poisoned_checkpoint, tiny_data_dir):
    """The path train.py takes when it resumes (``trainer.fit(ckpt_path=..., weights_only=True)``)."""
    import pytorch_lightning as pl

    from spectramind.data.datamodule import ArielDataModule
    from spectramind.models.backbones import MLPBackbone
    from spectramind.models.module import SpectraModule

    checkpoint, marker = poisoned_checkpoint
    trainer = pl.Trainer(
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
    )
    with pytest.raises(Exception, match="(?i)weights_only|unpickl"):
        trainer.fit(
            SpectraModule(backbone=MLPBackbone(hidden=8)),
            datamodule=ArielDataModule(str(tiny_data_dir)),
            ckpt_path=str(checkpoint),
            weights_only=True,
        )
    assert not marker.exists()


# ---------------------------------------------------------------- source scan
UNSAFE_CALLS = {
    "eval",
    "exec",
    "yaml.load",
    "yaml.unsafe_load",
    "yaml.full_load",
    "yaml.load_all",
    "pickle.load",
    "pickle.loads",
    "marshal.loads",
    "dill.load",
    "dill.loads",
    "joblib.load",
    "pd.read_pickle",
    "pandas.read_pickle",
    "np.load",
    "numpy.load",
    "torch.load",
    "os.system",
    "subprocess.getoutput",
}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def unsafe_calls(source: str) -> list[str]:
    """Calls that could run code from data: eval/exec, unsafe YAML or pickle loaders, torch.load or
    a Lightning checkpoint path without ``weights_only=True``, np.load with pickles, shell=True."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func)
        keywords = {k.arg: k.value for k in node.keywords}
        weights_only = isinstance(keywords.get("weights_only"), ast.Constant) and keywords["weights_only"].value is True
        line = f"line {node.lineno}: {name or ast.dump(node.func)[:40]}"
        if name in ("np.load", "numpy.load"):
            pickles = keywords.get("allow_pickle")
            if pickles is not None and not (isinstance(pickles, ast.Constant) and pickles.value is False):
                found.append(line)
        elif name == "torch.load" or name.endswith("load_from_checkpoint") or "ckpt_path" in keywords:
            if not weights_only:
                found.append(line)
        elif name in UNSAFE_CALLS:
            found.append(line)
        elif isinstance(keywords.get("shell"), ast.Constant) and keywords["shell"].value is True:
            found.append(line)
    return found


def test_the_scanner_finds_every_unsafe_pattern():
    sample = "\n".join(
        [
            "eval(text)",
            "exec(code)",
            "yaml.load(stream)",
            "yaml.unsafe_load(s)",
            "pickle.loads(b)",
            "torch.load(path)",
            "torch.load(path, weights_only=False)",
            "trainer.fit(m, ckpt_path=p)",
            "Module.load_from_checkpoint(p)",
            "np.load(p, allow_pickle=True)",
            "subprocess.run(c, shell=True)",
            "torch.load(path, weights_only=True)",
            "trainer.fit(m, ckpt_path=p, weights_only=True)",
            "yaml.safe_load(s)",
            "np.load(p, allow_pickle=False)",
            "module.eval()",
            "OmegaConf.load(p)",
        ]
    )
    assert [hit.split(": ", 1)[0] for hit in unsafe_calls(sample)] == [f"line {i}" for i in range(1, 12)]


def test_the_package_loads_no_code_from_data():
    sources = sorted((REPOSITORY / "spectramind").rglob("*.py")) + sorted((REPOSITORY / "hydra_plugins").rglob("*.py"))
    assert len(sources) > 30
    found = {str(path.relative_to(REPOSITORY)): hits for path in sources if (hits := unsafe_calls(path.read_text()))}
    assert found == {}

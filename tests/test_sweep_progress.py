"""SweepProgress against a sweep.json written here: counts, failures, ETA, TTY line vs log lines."""

from __future__ import annotations

import io
import time

import pytest

from spectramind.ablation.manifest import load_manifest, save_manifest
from spectramind.ablation.progress import SweepProgress
from spectramind.timestamps import format_duration


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _write_sweep(sweep_dir, statuses: dict[str, str]) -> None:
    runs = [{"run_id": run_id, "status": status, "started": None, "ended": None} for run_id, status in statuses.items()]
    for run in runs:
        if run["status"] not in ("pending", "running"):
            run.update(started="2026-01-01T00:00:00Z", ended="2026-01-01T00:00:30Z")
    save_manifest(sweep_dir, {"design": "grid", "runs": runs})


def _set_run(sweep_dir, run_id: str, status: str, started: str | None = None, ended: str | None = None) -> None:
    manifest = load_manifest(sweep_dir)
    entry = next(run for run in manifest["runs"] if run["run_id"] == run_id)
    entry.update(status=status, started=started, ended=ended)
    save_manifest(sweep_dir, manifest)


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0.0s"), (59.44, "59.4s"), (75, "1m 15s"), (3600, "1h 00m 00s"), (3725, "1h 02m 05s"), (None, "—")],
)
def test_durations_are_fixed_format(seconds, text):
    assert format_duration(seconds) == text


def test_log_lines_one_per_finished_run_with_counts_and_eta(tmp_path):
    _write_sweep(tmp_path, {"a": "pending", "b": "pending", "c": "pending"})
    clock, stream = FakeClock(), io.StringIO()
    with SweepProgress(tmp_path, total=3, stream=stream, interval_s=3600, clock=clock) as progress:
        _set_run(tmp_path, "a", "running", started="2026-01-01T00:00:00Z")
        assert progress.poll().running == 1 and stream.getvalue() == ""
        clock.now += 10
        _set_run(tmp_path, "a", "completed", "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z")
        progress.poll()
        progress.poll()  # nothing new: no second line for the same run
        clock.now += 10
        _set_run(tmp_path, "b", "failed", "2026-01-01T00:00:05Z", "2026-01-01T00:01:20Z")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "[ablation] 1/3 runs done, 0 failed, ETA 20.0s | a completed in 5.0s",
        "[ablation] 2/3 runs done, 1 failed, ETA 10.0s | b failed in 1m 15s",
    ]
    assert progress.state.done == 2 and progress.state.failures == 1


def test_terminal_gets_one_rewritten_line_and_a_final_newline(tmp_path):
    _write_sweep(tmp_path, {"a": "pending", "b": "pending"})
    clock, stream = FakeClock(), Terminal()
    with SweepProgress(tmp_path, total=2, stream=stream, interval_s=3600, clock=clock) as progress:
        _set_run(tmp_path, "a", "running", started="2026-01-01T00:00:00Z")
        _set_run(tmp_path, "b", "running", started="2026-01-01T00:00:00Z")
        progress.poll()
        progress.poll()
        clock.now += 30
        _set_run(tmp_path, "a", "diverged", "2026-01-01T00:00:00Z", "2026-01-01T00:00:30Z")
        progress.poll()
        _set_run(tmp_path, "b", "completed", "2026-01-01T00:00:00Z", "2026-01-01T00:00:31Z")
    output = stream.getvalue()
    assert output.endswith("\n") and output.count("\n") == 1
    frames = output.rstrip("\n").split("\r")[1:]
    first = "[ablation] 0/2 runs done, 0 failed, 2 running, ETA --"
    assert frames[0] == first
    assert frames[1].rstrip() == "[ablation] 1/2 runs done, 1 failed, 1 running, ETA 30.0s"
    assert frames[-1].rstrip() == "[ablation] 2/2 runs done, 1 failed"
    # a shorter line is padded so that no characters of the longer one before it remain visible
    assert len(frames[-1]) >= len(frames[-2])
    assert len({frame.rstrip() for frame in frames}) == len(frames)  # an unchanged state is not redrawn


def test_runs_that_ended_before_a_resume_are_not_counted(tmp_path):
    _write_sweep(tmp_path, {"old": "completed", "oldfail": "failed", "new": "pending"})
    stream = io.StringIO()
    with SweepProgress(tmp_path, total=1, stream=stream, interval_s=3600, clock=FakeClock()) as progress:
        assert progress.poll().done == 0
        _set_run(tmp_path, "new", "completed", "2026-01-02T00:00:00Z", "2026-01-02T00:00:02Z")
    assert progress.state.done == 1 and progress.state.failures == 0
    assert stream.getvalue().splitlines() == ["[ablation] 1/1 runs done, 0 failed | new completed in 2.0s"]


def test_a_retried_run_counts_once_with_its_latest_status(tmp_path):
    _write_sweep(tmp_path, {"a": "pending"})
    stream = io.StringIO()
    with SweepProgress(tmp_path, total=1, stream=stream, interval_s=3600, clock=FakeClock()) as progress:
        _set_run(tmp_path, "a", "failed", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z")
        assert progress.poll().failures == 1
        _set_run(tmp_path, "a", "running", "2026-01-01T00:00:02Z")
        assert progress.poll().done == 0
        _set_run(tmp_path, "a", "completed", "2026-01-01T00:00:02Z", "2026-01-01T00:00:04Z")
    assert (progress.state.done, progress.state.failures) == (1, 0)
    assert [line.split(" | ")[1] for line in stream.getvalue().splitlines()] == [
        "a failed in 1.0s",
        "a completed in 2.0s",
    ]


def test_the_background_thread_polls_without_being_asked(tmp_path):
    _write_sweep(tmp_path, {"a": "pending", "b": "pending"})
    stream = io.StringIO()
    with SweepProgress(tmp_path, total=2, stream=stream, interval_s=0.02):
        _set_run(tmp_path, "a", "completed", "2026-01-01T00:00:00Z", "2026-01-01T00:00:03Z")
        deadline = time.monotonic() + 5
        while "a completed" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "1/2 runs done" in stream.getvalue()


def test_missing_or_torn_manifest_and_nothing_to_launch_are_quiet(tmp_path):
    stream = io.StringIO()
    with SweepProgress(tmp_path, total=2, stream=stream, interval_s=3600) as progress:
        assert progress.poll().done == 0
        (tmp_path / "sweep.json").write_text('{"runs": [')
        assert progress.poll().done == 0
    assert stream.getvalue() == ""
    with SweepProgress(tmp_path, total=0, stream=stream, interval_s=0.01):
        _write_sweep(tmp_path, {"a": "completed"})
        time.sleep(0.05)
    assert stream.getvalue() == ""

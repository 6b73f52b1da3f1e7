"""A writer killed in the middle of an event line (a real process, SIGKILLed between two writes of
one line). Expected: readers keep every whole line, skip the torn one and report its number; the
next writer starts on a fresh line; the leaderboard is built and lists the torn lines."""

from __future__ import annotations

from leaderboard.synthetic_sweep import FakeRun, write_sweep

from spectramind.leaderboard.build import build_leaderboard
from spectramind.leaderboard.collate import collate_runs
from spectramind.tracking.events import append_event, read_events

from .battery import kill_writer_mid_line


def test_readers_skip_and_report_a_torn_final_line(tmp_path):
    path = tmp_path / "events.jsonl"
    append_event(path, "run_start", run_id="r")
    torn = kill_writer_mid_line(path)
    log = read_events(path)
    assert torn == 3
    assert [e["event"] for e in log.events] == ["run_start", "epoch_end"]
    assert log.events[-1]["note"] == "last whole line before the kill"
    assert log.skipped_lines == [torn]


def test_the_next_writer_starts_a_fresh_line_after_a_torn_one(tmp_path):
    path = tmp_path / "events.jsonl"
    torn = kill_writer_mid_line(path)
    append_event(path, "run_end", status="completed")
    log = read_events(path)
    assert [e["event"] for e in log.events] == ["epoch_end", "run_end"]
    assert log.skipped_lines == [torn]  # the torn fragment stays a line of its own, never merged


def test_the_leaderboard_reports_torn_lines_and_is_still_built(tmp_path):
    runs = [FakeRun({"model": "mlp"}, 0), FakeRun({"model": "cnn1d"}, 0, is_baseline=True)]
    sweep = write_sweep(tmp_path / "sweep", {"model": ["mlp", "cnn1d"]}, runs, baseline={"model": "cnn1d"})
    run_log = sweep.dir / "runs" / runs[0].run_id / "events.jsonl"
    torn_run_line = kill_writer_mid_line(run_log)
    torn_sweep_line = kill_writer_mid_line(sweep.dir / "events.jsonl")

    table = collate_runs(sweep.dir)
    assert f"runs/{runs[0].run_id}/events.jsonl: line {torn_run_line} is torn or not JSON; skipped" in table.warnings
    assert f"events.jsonl: line {torn_sweep_line} is torn or not JSON; skipped" in table.warnings
    epochs = table.curves[table.curves["run_id"] == runs[0].run_id]["epoch"].tolist()
    assert epochs == [0, 1, 2, 99]  # every whole line kept, the writer's last whole line included
    assert list(table.runs["status"]) == ["completed", "completed"]

    written = build_leaderboard(sweep.dir, top_n=1)
    assert written["markdown"].is_file()
    assert f"line {torn_run_line} is torn" in written["html"].read_text()

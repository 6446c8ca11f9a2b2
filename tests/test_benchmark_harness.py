"""The side-by-side benchmark's summary (benchmarks/run.py): medians of the warm
repetitions, ratios to each peer, and the paired ratios within repetitions."""

import importlib.util
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _records(tool, runs):
    return [{"case": "coba 4000, 1 s", "tool_id": tool, "repetition": r, "run_s": t,
             "e2e_s": 10 * t, "build_s": 0.1, "peak_mb": 100.0, "spikes": 80000,
             "rate_hz": 20.0} for r, t in enumerate(runs)]


def test_paired_ratios_take_each_warm_repetition_on_both_sides(run):
    """Ours 1, 3, 1 s against a peer slow in the middle repetition (2, 6, 2 s): every
    paired ratio is 0.5, while the medians of each side (1 s, 2 s) give 0.5 only by luck of
    the order; the first (cold) repetition is left out of both."""
    ours = _records("ours", [5.0, 1.0, 3.0, 1.0])
    peer = _records("brian2-cpp_standalone", [1.0, 2.0, 6.0, 2.0])
    assert run.paired_ratios(ours, peer) == [0.5, 0.5, 0.5]
    peer[2]["error"] = "timeout"
    assert run.paired_ratios(ours, peer) == [0.5, 0.5]


def test_summary_and_table_show_medians_ratios_and_paired_range(run):
    ours = _records("ours", [5.0, 1.0, 1.2, 0.9])
    peer = _records("brian2-cpp_standalone", [9.0, 2.0, 2.0, 1.0])
    rows = {s["tool"]: s for s in run.summarize(ours + peer)}
    p = rows["brian2-cpp_standalone"]
    assert p["run_s"] == 2.0 and rows["ours"]["run_s"] == 1.0  # warm medians
    assert p["ratio_run"] == pytest.approx(0.5)
    assert p["ratio_run_paired"] == pytest.approx(0.6)  # median of 0.5, 0.6, 0.9
    assert p["ratio_run_paired_range"] == pytest.approx([0.5, 0.9])
    lines = run.table(list(rows.values())).splitlines()
    assert all(line.count("|") == 14 for line in lines)
    assert "0.60 (0.50-0.90)" in lines[-1]


def test_whole_call_ratio_compares_our_simulate_call_with_the_peer_loop(run):
    """Our run_s is the step loop; call_s (set-up and Dataset included) gets its own
    median and a ratio to the peer's loop, shown next to the loop ratio."""
    ours = _records("ours", [5.0, 1.0, 1.2, 0.9])
    for r, call in zip(ours, [6.0, 1.5, 1.4, 1.2], strict=True):
        r["call_s"] = call
    peer = _records("brian2-cpp_standalone", [9.0, 2.0, 2.0, 1.0])
    rows = {s["tool"]: s for s in run.summarize(ours + peer)}
    assert rows["ours"]["call_s"] == 1.4  # median of the warm 1.5, 1.4, 1.2
    assert rows["brian2-cpp_standalone"]["ratio_call"] == pytest.approx(0.7)  # 1.4 / 2.0
    lines = run.table(list(rows.values())).splitlines()
    assert "| 1.000 (1.400) |" in lines[2] and "| 0.70 |" in lines[3]
    assert "ratio_call" not in run.summarize(_records("ours", [1.0, 1.0]) + peer)[1]

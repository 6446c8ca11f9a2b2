"""The side-by-side benchmark's summary (benchmarks/run.py): medians of the warm
repetitions, ratios to each peer (wall and CPU), and the paired ratios within repetitions;
the model lists, and the peers' copies of the Izhikevich and AdEx networks' numbers."""

import importlib.util
import inspect
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from neurosim_nb.core.networks import benchmarks_models as bm
from neurosim_nb.core.neurons.adaptive_lif import NAUD_2008_TABLE

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
PEERS = RUN.parent / "peers"


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
    assert all(line.count("|") == run.N_COLUMNS + 1 == 16 for line in lines)
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


def test_cpu_ratio_is_ours_over_peer_cpu_and_missing_cpu_shows_a_dash(run):
    """run_cpu_s gets a warm median like run_s and its own ratio column; a record without
    CPU time (an old JSON) leaves both out instead of failing."""
    ours = _records("ours", [5.0, 1.0, 1.2])
    peer = _records("nest", [4.0, 3.0, 3.0])
    for r, cpu in zip(ours + peer, [4.0, 0.5, 0.7, 3.0, 2.0, 2.4], strict=True):
        r["run_cpu_s"] = cpu
    rows = {s["tool"]: s for s in run.summarize(ours + peer)}
    assert rows["ours"]["run_cpu_s"] == pytest.approx(0.6)  # median of 0.5, 0.7
    assert rows["nest"]["ratio_cpu"] == pytest.approx(0.6 / 2.2)
    line = run.table([rows["ours"], rows["nest"]]).splitlines()[3].split(" | ")
    assert line[3] == "2.200" and line[11] == f"{0.6 / 2.2:.2f}"
    for r in ours + peer:
        del r["run_cpu_s"]
    rows = {s["tool"]: s for s in run.summarize(ours + peer)}
    assert rows["ours"]["run_cpu_s"] is None and "ratio_cpu" not in rows["nest"]
    assert run.table(list(rows.values())).splitlines()[3].split(" | ")[3] == "–"


@pytest.fixture(scope="module")
def common():
    sys.path.insert(0, str(PEERS))
    try:
        import common as module
    finally:
        sys.path.remove(str(PEERS))
    return module


def test_izhikevich_and_adex_are_in_every_model_list(run, common):
    for model in ("izhikevich", "adex"):
        assert model in common.MODELS and model in run.BRAINPY_MODELS
        assert (model, 4000, 1000.0) in run.DEFAULT_CASES
        for tool in ("ours", "brian2-cpp_standalone", "nest", "brainpy"):
            assert model in run.command(tool, model, 4000, 1000.0)


def test_ours_rows_use_the_peers_numerics_and_our_defaults_run_alone(run, common):
    """``izhikevich`` / ``adex`` compare like with like (forward Euler in every tool); the
    variants with our default schemes are in the suite for ours only."""
    env = dict(os.environ)
    sys.path.insert(0, str(PEERS))
    try:
        spec = importlib.util.spec_from_file_location("bench_ours", RUN.parent / "ours.py")
        ours = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ours)
    finally:
        sys.path.remove(str(PEERS))
        os.environ.clear()
        os.environ.update(env)        # (ours.py sets a variable for its run)
    for model, default in (("izhikevich", "izhikevich_exact"), ("adex", "adex_rosenbrock")):
        assert default in common.OURS_ONLY_MODELS and (default, 4000, 1000.0) in \
            run.DEFAULT_CASES
        same = ours.build(model, 10, 0)
        own = ours.build(default, 10, 0)
        for name in ("exc", "inh"):
            assert same.populations[name].params.scheme == "euler"
            assert own.populations[name].params.scheme == type(
                own.populations[name].params)().scheme  # the family's default


def _defaults(func) -> dict:
    return {k: p.default for k, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_peer_numbers_are_the_defaults_of_our_builders(common):
    """The peers' scripts (another virtual environment, no neurosim_nb) read the networks'
    numbers from common.py: they must be the builders' defaults, and the AdEx cells Naud et
    al.'s (2008) published "adapting" and "tonic" rows."""
    izh, d = common.IZHIKEVICH, _defaults(bm.izhikevich_network)
    assert (izh["weight_scale"], izh["drive_rate_hz"], izh["drive_weight_mV"]) == (
        d["weight_scale"], d["drive_rate_hz"], d["drive_weight_mV"])
    assert (izh["w_exc_max_mV"], izh["w_inh_max_mV"]) == (0.5, -1.0)  # Izhikevich 2003
    adex, d = common.ADEX, _defaults(bm.adex_network)
    assert (adex["w_exc_pA"], adex["w_inh_pA"], adex["drive_weight_pA"]) == pytest.approx(
        (1e3 * d["w_exc_nA"], 1e3 * d["w_inh_nA"], 1e3 * d["drive_weight_nA"]))
    assert adex["drive_rate_hz"] == d["drive_rate_hz"]
    assert (adex["tau_e"], adex["tau_i"]) == (bm.CUBA_EXC.tau_decay_ms,
                                              bm.CUBA_INH.tau_decay_ms)
    for pop, preset in (("exc", "adapting"), ("inh", "tonic")):
        c, g_l, e_l, a, tau_w, b, v_r, _ = NAUD_2008_TABLE[preset]
        assert common.ADEX_CELLS[pop] == dict(C=c, g_L=g_l, E_L=e_l, a=a, tau_w=tau_w, b=b,
                                              V_r=v_r)


def test_izhikevich_network_has_the_published_heterogeneity_and_weight_ranges():
    """Izhikevich (2003): c = -65 + 15 r^2, d = 8 - 6 r^2 (RS), a = 0.02 + 0.08 r,
    b = 0.25 - 0.05 r (FS), so (c + 65) / 15 = ((8 - d) / 6) and the FS a, b lie on one
    line; weights uniform on [0, 0.5 k] and [-k, 0] (k = 5): with ~1300 synapses per
    projection the sample mean is within 4 standard errors (0.04 mV) of k / 4."""
    net = bm.izhikevich_network(n=1000, seed=3)
    exc, inh = net.populations["exc"].params, net.populations["inh"].params
    np.testing.assert_allclose((exc.c + 65.0) / 15.0, (8.0 - exc.d) / 6.0, atol=1e-12)
    np.testing.assert_allclose((inh.a - 0.02) / 0.08, (0.25 - inh.b) / 0.05, atol=1e-12)
    w = {(p.pre, p.post): np.asarray(p.weight) for p in net.projections}
    assert w["exc", "exc"].min() >= 0.0 and w["exc", "exc"].max() <= 2.5
    assert w["inh", "exc"].min() >= -5.0 and w["inh", "exc"].max() <= 0.0
    se = 2.5 / np.sqrt(12 * w["exc", "exc"].size)
    assert abs(w["exc", "exc"].mean() - 1.25) < 4 * se


def test_izhikevich_network_without_recurrence_and_bad_scale():
    """weight_scale = 0 leaves the synapses in place with zero weight (the kernel-only
    cost of the same network); a negative or non-finite scale is refused by name."""
    net = bm.izhikevich_network(n=200, seed=0, weight_scale=0.0)
    assert all(np.all(np.asarray(p.weight) == 0.0) for p in net.projections)
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="weight_scale"):
            bm.izhikevich_network(n=200, weight_scale=bad)

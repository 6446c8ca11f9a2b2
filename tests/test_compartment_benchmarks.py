"""The compartmental benchmark's references (benchmarks/compartments): our analytic Rallpack
1 and 2 series against the official reference traces, the shared model specs against the
Rallpack definitions, the spike detector, the harness's summary, and the committed NEURON
references against physics they must obey."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
COMP = ROOT / "benchmarks" / "compartments"
REF = ROOT / "tests" / "cable" / "reference"
sys.path.insert(0, str(COMP))
import arbor_models  # noqa: E402  (pure geometry; arbor itself is imported lazily)
import rallpack  # noqa: E402
import specs  # noqa: E402


@pytest.mark.parametrize("pack, func", [(1, rallpack.rallpack1_analytic),
                                        (2, rallpack.rallpack2_analytic)])
def test_analytic_series_reproduce_the_official_traces(pack, func):
    """Rallpacks 1 and 2 were published with analytic solutions: our independent numpy
    series must reproduce all 5001 samples at both ends. The files print V in volts to 7
    significant digits (+-5e-9 V); the tolerance, 1e-4 mV, is 6e-5 % of the traces' range
    (167 and 25 mV) and fails for any error in the series, lambda, tau or the tree's
    equivalent cylinder (Ra 1 % off moves Rallpack 1 by 0.37 mV; a 9-level tree by 2.8 mV)."""
    t, v0 = rallpack.load_official(pack, 0)
    _, vx = rallpack.load_official(pack, 1)
    a0, ax = func(t)
    assert np.max(np.abs(a0 - v0)) < 1e-4
    assert np.max(np.abs(ax - vx)) < 1e-4


def test_rallpack2_tree_wrong_depth_is_detected():
    """The tolerance above discriminates: a 9-level tree is a different cable."""
    t, v0 = rallpack.load_official(2, 0)
    a0, _ = rallpack.rallpack2_analytic(t, depth=9)
    assert np.max(np.abs(a0 - v0)) > 1.0


def test_rallpack2_spec_obeys_the_three_halves_rule_with_equal_electrotonic_lengths():
    """Rall's 3/2 rule: d_parent^(3/2) = sum of the children's d^(3/2); every section is
    0.008 length constants (lambda = sqrt(R_m d / 4 R_a), R_m 40 000 ohm cm2, R_a 100 ohm
    cm), so the tree is a 0.08-lambda equivalent cylinder."""
    tree = specs.rallpack2_tree()
    secs = {s["name"]: s for s in tree["sections"]}
    assert len(secs) == 1023 and specs.n_compartments([tree]) == 1023
    children: dict[str, list] = {}
    for s in tree["sections"]:
        if s["parent"]:
            children.setdefault(s["parent"], []).append(s)
    for name, kids in children.items():
        assert len(kids) == 2
        lhs = secs[name]["diam_um"] ** 1.5
        assert math.isclose(lhs, sum(k["diam_um"] ** 1.5 for k in kids), rel_tol=1e-12)
    for s in tree["sections"]:
        lam_um = math.sqrt(40000.0 * s["diam_um"] * 1e-4 / (4 * 100.0)) * 1e4
        assert math.isclose(s["L_um"] / lam_um, 0.008, rel_tol=1e-12)


def test_rallpack_cable_spec_is_the_published_one():
    """Rallpack 1 / 3: 1 mm x 1 um, 1000 compartments, RA 1 ohm m, RM 4 ohm m2, CM 0.01
    F/m2, EM -65 mV, 0.1 nA at x = 0; Rallpack 3 GNa 1200, GK 360 S/m2, ENa 50, EK -77."""
    c1, c3 = specs.rallpack_cable(False), specs.rallpack_cable(True)
    s1, s3 = c1["sections"][0], c3["sections"][0]
    assert (s1["L_um"], s1["diam_um"], s1["nseg"], s1["Ra_ohm_cm"], s1["cm_uF_cm2"]) == \
        (1000.0, 1.0, 1000, 100.0, 1.0)
    assert s1["mechanisms"]["pas"] == {"g": 1 / 40000, "e": -65.0}
    hh = s3["mechanisms"]["hh"]
    assert (hh["gnabar"], hh["gkbar"], hh["gl"], hh["el"], hh["ena"], hh["ek"]) == \
        (0.12, 0.036, 1 / 40000, -65.0, 50.0, -77.0)
    assert c1["stimuli"] == [{"section": "cable", "x": 0.0, "delay_ms": 0.0,
                              "dur_ms": 1e9, "amp_nA": 0.1}]


def test_hh_cell_and_population_sizes():
    cell = specs.hh_cell_1000()
    assert specs.n_compartments([cell]) == 1000
    names = {s["name"] for s in cell["sections"]}
    assert all(s["parent"] is None or s["parent"] in names for s in cell["sections"])
    pop = specs.model("hh_population_100")
    assert len(pop) == 100 and specs.n_compartments(pop) == 100_000
    amps = [c["stimuli"][0]["amp_nA"] for c in pop]
    assert amps[0] == 2.0 and amps[-1] == 4.0 and np.all(np.diff(amps) > 0)
    with pytest.raises(ValueError, match="model must be one of"):
        specs.model("rallpack4")


def test_sealed_cable_rejects_bad_input():
    with pytest.raises(ValueError, match="diam_um"):
        rallpack.sealed_cable_voltage(0.0, 1.0, length_um=10.0, diam_um=0.0)
    with pytest.raises(ValueError, match="x_um"):
        rallpack.sealed_cable_voltage(20.0, 1.0, length_um=10.0, diam_um=1.0)
    with pytest.raises(ValueError, match="t_ms"):
        rallpack.sealed_cable_voltage(0.0, -1.0, length_um=10.0, diam_um=1.0)


def test_spike_times_official_rallpack3_and_hysteresis():
    """The official Rallpack 3 trace fires 18 spikes at x = 0 and 17 at x = 1 mm (250 ms);
    a ripple of +-0.1 mV around the threshold after a spike is not a second spike."""
    for end, n in ((0, 18), (1, 17)):
        t, v = rallpack.load_official(3, end)
        assert len(rallpack.spike_times(t, v)) == n
    t = np.arange(6.0)
    v = np.array([-30.0, 20.0, -0.1, 0.1, -0.1, -30.0])
    assert rallpack.spike_times(t, v).tolist() == [0.6]


def test_trace_errors_rejects_nan_and_shape():
    with pytest.raises(ValueError, match="NaN"):
        rallpack.trace_errors([np.nan, 0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        rallpack.trace_errors([0.0], [0.0, 1.0])


def test_committed_squid_velocities_scale_with_sqrt_diameter():
    """Cable theory: at fixed membrane and Ri the conduction velocity scales as sqrt(d), so
    doubling d multiplies it by sqrt(2) (to ~0.1 %, nseg fixed per length); HH (1952)
    computed 18.8 m/s for 476 um, NEURON's converged value must be within 1 % of it."""
    vel = json.loads((REF / "squid_axon_velocity.json").read_text())["velocity_m_per_s"]
    v = {d: vel[f"d{d}_nseg2000_dt0.001_cn"] for d in (238, 476, 952)}
    assert v[476] / v[238] == pytest.approx(math.sqrt(2), rel=2e-3)
    assert v[952] / v[476] == pytest.approx(math.sqrt(2), rel=2e-3)
    assert v[476] == pytest.approx(18.8, rel=0.01)


def test_committed_swc_input_resistance_two_methods_agree():
    """The DC step run to 50 time constants and the 0 Hz impedance are independent ways to
    the same input resistance: they must agree to < 0.01 % (exp(-50) of the transient)."""
    d = json.loads((REF / "swc_input_resistance.json").read_text())
    assert d["rin_MOhm_dc_step"] == pytest.approx(d["rin_MOhm_impedance_0Hz"], rel=1e-4)
    assert d["n_sections"] == sum(d["sections_by_type"].values())


def test_committed_rallpack3_spikes_converge_with_dt():
    """Backward Euler is first order, Crank-Nicolson second: at dt 0.001 ms the two agree to
    0.1 ms over 18 spikes, and CN at 0.025 ms is closer to the dt 0.001 ms value than BE."""
    s = json.loads((REF / "rallpack3_spikes.json").read_text())["spike_times_ms"]
    for end, n in (("x0", 18), ("x1", 17)):
        fine_be, fine_cn = np.array(s["dt_0.001_be"][end]), np.array(s["dt_0.001_cn"][end])
        assert len(fine_be) == len(fine_cn) == n
        assert np.max(np.abs(fine_be - fine_cn)) < 0.1
        err_be = np.max(np.abs(np.array(s["dt_0.025_be"][end]) - fine_cn))
        err_cn = np.max(np.abs(np.array(s["dt_0.025_cn"][end]) - fine_cn))
        assert err_cn < err_be


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("comp_run", COMP / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_harness_pairs_ours_with_neuron_in_the_same_repetition(harness):
    """Paired ratio: NEURON 2, 6, 2 s against ours 1, 3, 1 s gives 0.5 in each warm
    repetition (the first, cold, left out)."""
    recs = [{"model": "m", "target": "cn", "dt_ms": 0.025, "tool": tool, "repetition": r,
             "run_s": s, "cpu_s": s, "e2e_s": 1.0, "peak_mb": 50.0, "build_s": 0.1,
             "compartment_steps_per_s": 1e6 / s, "spikes": 3}
            for tool, runs in (("neuron", [9.0, 6.0, 2.0]), ("ours", [1.0, 3.0, 1.0]))
            for r, s in enumerate(runs)]
    rows = {r["tool"]: r for r in harness.summarize(recs)}
    assert rows["ours"]["ratio_run"] == 0.5
    assert rows["neuron"]["run_s"] == 4.0      # median of the warm 6 and 2
    assert "ratio_run" not in rows["neuron"]


def test_harness_rejects_unknown_tool_and_arbor_crank_nicolson(harness):
    with pytest.raises(ValueError, match="tool must be"):
        harness.command("brian2", "rallpack1", 0.025, "cn", Path("python"))
    with pytest.raises(ValueError, match="method for arbor"):
        harness.command("arbor", "rallpack1", 0.025, "cn", Path("python"))
    with pytest.raises(ValueError, match="no Crank-Nicolson"):
        arbor_models.run("rallpack1", 0.025, "cn")


def test_harness_pairs_ours_with_arbor_and_arbor_with_neuron(harness):
    """ours/Arbor and Arbor/NEURON are paired per repetition like ours/NEURON: NEURON 4, 4,
    Arbor 2, 1, ours 1, 1 s over the warm repetitions 1 and 2 give ours/Arbor median(0.5, 1)
    = 0.75 and Arbor/NEURON median(0.5, 0.25) = 0.375; cpu ratios from cpu_s (half the
    run time here: the same ratios)."""
    runs = {"neuron": [9.0, 4.0, 4.0], "arbor": [9.0, 2.0, 1.0], "ours": [9.0, 1.0, 1.0]}
    recs = [{"model": "m", "target": "be", "dt_ms": 0.025, "tool": tool, "repetition": r,
             "run_s": s, "cpu_s": s / 2, "e2e_s": 1.0, "peak_mb": 50.0, "build_s": 0.1,
             "compartment_steps_per_s": 1e6 / s, "spikes": 3}
            for tool, times in runs.items() for r, s in enumerate(times)]
    rows = {r["tool"]: r for r in harness.summarize(recs)}
    assert rows["ours"]["ratio_run_arbor"] == rows["ours"]["ratio_cpu_arbor"] == 0.75
    assert rows["arbor"]["ratio_run"] == 0.375 and "ratio_run_arbor" not in rows["arbor"]
    table = harness.speed_table(list(rows.values()))
    assert "| 0.75 (cpu 0.75) |" in table


CABLE_MODELS = ("rallpack1", "rallpack2", "rallpack3", "hh_cell_1000")


@pytest.mark.parametrize("name", CABLE_MODELS)
def test_arbor_geometry_puts_the_control_volumes_at_neurons_nodes(name):
    """NEURON's discretisation of a section of nseg segments: nodes at the segment centres
    (i + 0.5) / nseg, each owning the membrane of its segment (length L / nseg), plus
    zero-area nodes at x = 1 of every section and at the root's x = 0 (NEURON
    Programmer's Reference, "nseg"; Hines & Carnevale 1997): sum(nseg) + sections + 1
    nodes. Arbor's CV of one unbranched cable holds its voltage at the cable's midpoint, so
    the translation must give, per section, nseg CVs whose midpoints are NEURON's nodes and
    whose lengths are L / nseg, to within the sliver (1e-3 um: 1e-3 of the smallest
    segment here, Rallpack 1's 1 um), and at every end node a CV no longer than the sliver:
    zero-length at forks (the parent's x = 1 and each child's x = 0 are both boundaries),
    a sliver centred on the node at single-child joints."""
    cell = specs.model(name)[0]
    sliver = arbor_models.SLIVER_UM
    geo = arbor_models.arbor_geometry(cell)
    secs = cell["sections"]
    assert geo["n_cv"] == sum(s["nseg"] for s in secs) + len(secs) + 1
    by_sec: dict[str, list[float]] = {}
    for sec_name, x in geo["boundaries"]:
        by_sec.setdefault(sec_name, []).append(x)
    children: dict[str, list[str]] = {}
    for s in secs:
        if s["parent"] is not None and s["parent_x"] == 1.0:
            children.setdefault(s["parent"], []).append(s["name"])
    index = {s["name"]: i for i, s in enumerate(secs)}
    for i, s in enumerate(secs):
        seg = geo["segments"][i]
        length = math.dist(seg["prox"][:3], seg["dist"][:3])
        assert length == pytest.approx(s["L_um"], rel=1e-12)
        assert seg["prox"][3] == seg["dist"][3] == s["diam_um"] / 2
        expect_parent = -1 if s["parent"] is None or s["parent_x"] == 0.0 else \
            index[s["parent"]]
        assert seg["parent"] == expect_parent
        b = np.array(sorted(by_sec[s["name"]])) * s["L_um"]       # um from the start
        n = s["nseg"]
        assert len(b) == n + 1
        mids, widths = 0.5 * (b[1:] + b[:-1]), np.diff(b)
        nodes = (np.arange(n) + 0.5) * s["L_um"] / n
        assert np.max(np.abs(mids - nodes)) <= sliver / 2 + 1e-9
        assert np.max(np.abs(widths - s["L_um"] / n)) <= sliver + 1e-9
        # the x = 1 end node: zero-length at a fork, else a sliver (leaf: inside the section)
        kids = children.get(s["name"], [])
        tail = s["L_um"] - b[-1]
        if len(kids) >= 2:
            assert tail == 0.0
            for k in kids:
                assert min(by_sec[k]) == 0.0
        elif len(kids) == 1:
            head = min(by_sec[kids[0]]) * secs[index[kids[0]]]["L_um"]
            assert tail + head == pytest.approx(sliver, rel=1e-6)
            assert tail == pytest.approx(head, rel=1e-6)                 # centred
        else:
            assert tail == pytest.approx(sliver, rel=1e-6)


def test_arbor_geometry_root_forks_give_a_zero_length_root_node():
    """hh_cell_1000: four dendrites at soma(0) make Arbor's root a fork, so the soma's and
    the dendrites' x = 0 are boundaries (the zero-area root node); an unbranched root
    (Rallpack 1) gets a sliver at x = 0 instead."""
    geo = arbor_models.arbor_geometry(specs.hh_cell_1000())
    starts = [min(x for n, x in geo["boundaries"] if n == name)
              for name in ("soma", "dend0", "dend3")]
    assert starts == [0.0, 0.0, 0.0]
    cable = arbor_models.arbor_geometry(specs.rallpack_cable())
    assert min(x for _, x in cable["boundaries"]) * 1000.0 == \
        pytest.approx(arbor_models.SLIVER_UM, rel=1e-6)


def test_arbor_geometry_rejects_what_it_cannot_translate():
    cell = specs.hh_cell_1000()
    cell["sections"][1]["parent_x"] = 0.5
    with pytest.raises(ValueError, match="parent_x must be 0 \\(root\\) or 1"):
        arbor_models.arbor_geometry(cell)
    cell = specs.hh_cell_1000()
    cell["sections"][3]["parent_x"] = 0.0          # dend0a at dend0(0): not the root
    with pytest.raises(ValueError, match="parent_x 0 is supported on the root"):
        arbor_models.arbor_geometry(cell)
    with pytest.raises(ValueError, match="sliver_um must be < 0.1"):
        arbor_models.arbor_geometry(specs.rallpack_cable(), sliver_um=0.5)
    with pytest.raises(ValueError, match="sliver_um must be a positive"):
        arbor_models.arbor_geometry(specs.rallpack_cable(), sliver_um=0.0)
    with pytest.raises(ValueError, match="nseg must be a positive int"):
        bad = specs.rallpack_cable()
        bad["sections"][0]["nseg"] = 0
        arbor_models.arbor_geometry(bad)


def test_examples_in_the_benchmark_modules_hold(harness):
    """The docstring examples of specs.py, rallpack.py, run.py and arbor_models.py (not
    collected by ``pytest --doctest-modules``, which covers tests/ and neurosim_nb/ only)."""
    import doctest

    for module in (specs, rallpack, harness, arbor_models):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_harness_skips_arbor_with_the_reason(harness, tmp_path):
    """The suite's interpreter has no arbor: the check says why, naming the import; a
    missing interpreter is named too."""
    try:
        import arbor  # noqa: F401
        pytest.skip("arbor is installed in this environment")
    except ImportError:
        pass
    ok, why = harness.arbor_available(Path(sys.executable))
    assert not ok and why.startswith("import arbor failed") and "arbor" in why.split(":")[-1]
    ok, why = harness.arbor_available(tmp_path / "no-python")
    assert not ok and "no peers' interpreter" in why

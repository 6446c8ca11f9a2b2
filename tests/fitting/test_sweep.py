"""parameter_sweep: the LIF f-I grid against the closed form, serial == Dask == a plain loop
(bit for bit), per-point seeds, failures recorded, checkpoint and resume, bad input.

References are independent of the sweep: the closed-form LIF rate
(:func:`~neurosim_nb.core.neurons.lif.lif_rate_closed_form`), a plain Python loop of
single-neuron runs, ``np.random.SeedSequence(seed).spawn``, and models written out by hand
(``_sweep_models.noisy_product_reference``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import _sweep_models
import cloudpickle
import numpy as np
import pytest
import xarray as xr

from neurosim_nb import LIFNeuron, LIFParameters
from neurosim_nb.core.neurons.lif import lif_rate_closed_form
from neurosim_nb.fitting import SweepError, load_sweep, parameter_sweep, point_seed
from neurosim_nb.fitting.cluster import get_client, map_batches

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# the workers of a LocalCluster cannot import the test modules by name: ship them by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])
cloudpickle.register_pickle_by_value(_sweep_models)

TAU = np.array([5.0, 10.0, 20.0])
CURRENT = np.array([1.0, 2.5, 3.0, 4.5, 6.0, 9.0])   # rheobase of the defaults: 2 nA
DT = 0.01


@pytest.fixture(scope="module")
def two_workers():
    """A LocalCluster of 2 single-threaded worker processes."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def _lif_grid(client, **kw):
    return parameter_sweep("LIF", {"tau_m": TAU, "I_nA": CURRENT},
                           measures=["isi_rate", "mean_rate", "spike_count"],
                           fixed={"duration_ms": 600.0, "dt": DT}, client=client,
                           progress=False, **kw)


def _data(ds: xr.Dataset) -> xr.Dataset:
    return ds.drop_attrs()


def test_lif_fi_grid_against_closed_form():
    ds = _lif_grid("serial")
    assert ds["isi_rate"].dims == ("tau_m", "I_nA")
    assert ds["tau_m"].attrs["units"] == "ms" and ds["I_nA"].attrs["units"] == "nA"
    assert ds["isi_rate"].attrs["units"] == "Hz"
    assert ds.attrs["n_failed"] == 0 and (ds["error"] == "").all()
    rate = np.array([[lif_rate_closed_form(LIFParameters(tau_m=t), i) for i in CURRENT]
                     for t in TAU])
    fires = rate > 0
    assert np.array_equal(fires, ds["isi_rate"].values > 0)   # 1 nA is below rheobase
    # Tolerance: the membrane update is exact, but a crossing is seen at the end of the step
    # it happens in and the refractory period is whole steps, so every steady-state interval
    # is the exact one rounded up by less than one step: 0 <= ISI_sim - ISI_exact < dt.
    isi_sim = 1000.0 / ds["isi_rate"].values[fires]
    isi_exact = 1000.0 / rate[fires]
    assert np.all(isi_sim - isi_exact >= -1e-9), isi_sim - isi_exact
    assert np.all(isi_sim - isi_exact < DT + 1e-9), isi_sim - isi_exact


def test_family_sweep_equals_a_plain_loop_bit_for_bit():
    ds = _lif_grid("serial")
    for a, tau in enumerate(TAU):
        for b, current in enumerate(CURRENT):
            run = LIFNeuron(LIFParameters(tau_m=tau), n=1).simulate(
                600.0, np.array([current]), dt=DT, record=(), seed=0, verbose=False)
            t = run["spike_time"].values
            isi_rate = 1000.0 / np.diff(t).mean() if t.size > 1 else 0.0
            assert ds["isi_rate"].values[a, b] == isi_rate
            assert ds["spike_count"].values[a, b] == t.size
            assert ds["mean_rate"].values[a, b] == t.size / 0.6


def test_serial_equals_dask_bit_for_bit(two_workers):
    serial = _lif_grid("serial")
    dask = _lif_grid(two_workers, batch_size=4)          # 5 tasks over 2 workers
    assert dask.attrs["n_workers"] == 2
    xr.testing.assert_identical(_data(serial), _data(dask))
    # a stochastic callable: the seeds follow the points, not the batches or the workers
    grid = {"a": np.arange(5.0), "b": np.array([0.5, 1.0, 2.0])}
    runs = [parameter_sweep(_sweep_models.noisy_product, grid, measures=["y", "z"],
                            client=c, batch_size=bs, seed=7, progress=False)
            for c, bs in (("serial", None), ("serial", 1), (two_workers, 2), (two_workers, 7))]
    for other in runs[1:]:
        xr.testing.assert_identical(_data(runs[0]), _data(other))
    for k, (a, b) in enumerate((a, b) for a in grid["a"] for b in grid["b"]):
        ref = _sweep_models.noisy_product_reference(a, b, point_seed(7, k))
        assert runs[0]["y"].values.flat[k] == ref["y"]
        assert runs[0]["seed"].values.flat[k] == point_seed(7, k)


def test_point_seed_is_the_spawned_child():
    children = np.random.SeedSequence(42).spawn(6)
    assert [point_seed(42, k) for k in range(6)] == [
        int(c.generate_state(1)[0]) for c in children]


def test_design_gives_a_sample_dimension():
    rng = np.random.default_rng(0)
    design = {"a": rng.uniform(0, 1, 9), "b": rng.uniform(1, 2, 9)}
    ds = parameter_sweep(_sweep_models.noisy_product, design=design, measures="y", seed=3,
                         client="serial", progress=False)
    assert ds["y"].dims == ("sample",)
    np.testing.assert_array_equal(ds["a"].values, design["a"])
    for k in range(9):
        ref = _sweep_models.noisy_product_reference(design["a"][k], design["b"][k],
                                                    point_seed(3, k))
        assert ds["y"].values[k] == ref["y"]


def test_measures_by_name_callable_and_units():
    def model(p, seed):
        return xr.Dataset(attrs={"v": p["a"]})

    def measure(ds):
        return xr.DataArray(2.0 * ds.attrs["v"], attrs={"units": "mV"})

    ds = parameter_sweep(model, {"a": [1.0, 2.0]}, measures={"twice": measure},
                         client="serial", progress=False)
    assert ds["twice"].values.tolist() == [2.0, 4.0]
    assert ds["twice"].attrs["units"] == "mV"
    # a callable measure on the family path sees each neuron alone (the population is split)
    lif = parameter_sweep("LIF", {"I_nA": [2.5, 6.0]},
                          measures={"n": lambda d: d["spike_time"].size,
                                    "v_max": lambda d: float(d["V"].max()),
                                    "count": "spike_count"},
                          fixed={"duration_ms": 200.0}, client="serial", progress=False)
    np.testing.assert_array_equal(lif["n"].values, lif["count"].values)
    assert lif["count"].values[1] > lif["count"].values[0] > 0
    assert np.all(lif["v_max"].values <= LIFParameters().V_threshold)


def test_network_spec_paths_match_direct_runs():
    from neurosim_nb.core.networks.spec import build_network

    spec = {"name": "drive", "seed": 5,
            "populations": {"E": {"model": "LIF", "n": 20}},
            "stimuli": {"E": [{"type": "PoissonInput", "rate_hz": 1000.0, "weight_mV": 1.0}]}}
    rates = [500.0, 2000.0]
    ds = parameter_sweep(spec, {"stimuli.E.0.rate_hz": rates}, measures="mean_rate",
                         fixed={"duration_ms": 200.0}, seed=1, client="serial",
                         progress=False)
    for k, r in enumerate(rates):
        s = {**spec, "stimuli": {"E": [{"type": "PoissonInput", "rate_hz": r,
                                        "weight_mV": 1.0}]}}
        run = build_network(s).simulate(200.0, dt=0.1, record=(), seed=point_seed(1, k),
                                        verbose=False)
        assert ds["mean_rate"].values[k] == run["spike_time"].size / 20 / 0.2
    assert ds["mean_rate"].values[1] > ds["mean_rate"].values[0]


def test_failing_points_are_recorded_and_the_sweep_goes_on():
    def model(p, seed):
        if p["a"] == 2.0:
            raise RuntimeError("no convergence at a=2")
        return {"y": p["a"]}

    ds = parameter_sweep(model, {"a": [1.0, 2.0, 3.0]}, measures="y", client="serial",
                         progress=False)
    assert ds["y"].values[0] == 1.0 and ds["y"].values[2] == 3.0
    assert np.isnan(ds["y"].values[1])
    assert ds["error"].values.tolist() == ["", "model: RuntimeError: no convergence at a=2", ""]
    assert ds.attrs["n_failed"] == 1
    # an invalid parameter set of a family point is that point's error
    lif = parameter_sweep("LIF", {"V_reset": [-65.0, -40.0]}, measures="spike_count",
                          fixed={"I_nA": 3.0, "duration_ms": 100.0}, client="serial",
                          progress=False)
    assert lif["error"].values[0] == "" and lif["spike_count"].values[0] > 0
    assert "V_reset" in lif["error"].values[1] and np.isnan(lif["spike_count"].values[1])


class _Interrupt:
    """Raises KeyboardInterrupt (Ctrl-C) when the model starts point number ``at``."""

    calls: list = []
    at: int | None = None


def _interruptible(p, seed):
    if _Interrupt.at is not None and len(_Interrupt.calls) == _Interrupt.at:
        raise KeyboardInterrupt
    _Interrupt.calls.append((p["a"], p["b"]))
    return {"y": p["a"] * 10 + p["b"], "r": np.random.default_rng(seed).normal()}


def test_ctrl_c_then_resume_computes_every_point_once(tmp_path):
    store = tmp_path / "sweep.zarr"
    grid = {"a": np.arange(4.0), "b": np.arange(5.0)}
    kw = dict(measures=["y", "r"], client="serial", progress=False, store=str(store),
              batch_size=6)
    _Interrupt.calls, _Interrupt.at = [], 9        # in the second batch
    with pytest.raises(KeyboardInterrupt):
        parameter_sweep(_interruptible, grid, **kw)
    assert load_sweep(store).attrs["n_done"] == 9  # the finished part of batch 2 is kept
    _Interrupt.at = None
    ds = parameter_sweep(_interruptible, grid, **kw)
    assert ds.attrs["n_resumed"] == 9
    assert sorted(_Interrupt.calls) == sorted((a, b) for a in grid["a"] for b in grid["b"])
    ref = parameter_sweep(_interruptible, grid, measures=["y", "r"], client="serial",
                          progress=False)
    xr.testing.assert_identical(_data(ds), _data(ref))
    xr.testing.assert_identical(_data(load_sweep(store)), _data(ref))


def test_killed_client_resumes_from_the_store(tmp_path):
    store, log = tmp_path / "sweep.zarr", tmp_path / "calls.log"
    grid = {"a": np.arange(6.0), "b": np.array([1.0, 2.0])}
    fixed = {"sleep_s": 0.15}
    script = textwrap.dedent(f"""
        import numpy as np, _sweep_models
        from neurosim_nb.fitting import parameter_sweep
        parameter_sweep(_sweep_models.noisy_product, {{"a": np.arange(6.0),
                        "b": np.array([1.0, 2.0])}}, measures=["y", "z"], fixed={fixed!r},
                        client="serial", store={str(store)!r}, batch_size=2, seed=3,
                        progress=False)
    """)
    env = {**os.environ, "SWEEP_CALL_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    batches = store / "batches"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if batches.is_dir() and len([p for p in batches.iterdir()
                                     if not p.name.startswith(".")]) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = load_sweep(store)
    n_before = before.attrs["n_done"]
    assert 4 <= n_before < 12
    stored = {(float(a), float(b)) for a, b, e in zip(
        before["a"].broadcast_like(before["y"]).values.ravel(),
        before["b"].broadcast_like(before["y"]).values.ravel(),
        before["error"].values.ravel(), strict=True) if e != "not computed"}
    def logged_calls():
        return [tuple(map(float, line.split()[:2])) for line in log.read_text().splitlines()]

    killed_run = logged_calls()
    os.environ["SWEEP_CALL_LOG"] = str(log)
    try:
        ds = parameter_sweep(_sweep_models.noisy_product, grid, measures=["y", "z"],
                             fixed=fixed, client="serial", store=str(store), batch_size=2,
                             seed=3, progress=False)
    finally:
        del os.environ["SWEEP_CALL_LOG"]
    assert ds.attrs["n_resumed"] == n_before
    resumed_run = logged_calls()[len(killed_run):]
    every = {(float(a), float(b)) for a in grid["a"] for b in grid["b"]}
    for point in stored:        # what the store held: computed once, before the kill
        assert killed_run.count(point) == 1 and resumed_run.count(point) == 0, point
    for point in every - stored:  # the rest: exactly once by the resumed run
        assert resumed_run.count(point) == 1, point
    # before the kill, only stored points and the one batch being written were computed
    assert len(set(killed_run) - stored) <= 2
    for k, (a, b) in enumerate((a, b) for a in grid["a"] for b in grid["b"]):
        ref = _sweep_models.noisy_product_reference(a, b, point_seed(3, k))
        assert ds["y"].values.flat[k] == ref["y"] and ds["z"].values.flat[k] == ref["z"]


def test_a_finished_store_is_read_back_without_computing(tmp_path):
    store = tmp_path / "s.zarr"
    calls = []

    def model(p, seed):
        calls.append(p["a"])
        return {"y": p["a"] ** 2}

    first = parameter_sweep(model, {"a": [1.0, 2.0, 3.0]}, measures="y", client="serial",
                            store=str(store), progress=False)
    again = parameter_sweep(model, {"a": [1.0, 2.0, 3.0]}, measures="y", client="serial",
                            store=str(store), progress=False)
    assert calls == [1.0, 2.0, 3.0] and again.attrs["n_resumed"] == 3
    xr.testing.assert_identical(_data(first), _data(again))


# -- bad input ---------------------------------------------------------------------------
def _f(p, seed):
    return {"y": 1.0}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"grid": {}}, "grid is empty"),
    ({"grid": {"a": []}}, r"grid\['a'\] is empty"),
    ({"grid": {"a": [[1.0, 2.0]]}}, "must be 1-D"),
    ({"grid": {"a": [1.0, np.nan]}}, "finite"),
    ({}, "exactly one of grid"),
    ({"grid": {"a": [1.0]}, "design": {"a": [1.0]}}, "not both"),
    ({"design": {"a": [1.0, 2.0], "b": [1.0]}}, "one length"),
    ({"grid": {"a": [1.0]}, "fixed": {"a": 2.0}}, "both swept and fixed"),
    ({"grid": {"error": [1.0]}}, "reserved"),
    ({"grid": {"a": [1.0]}, "measures": {}}, "measures is empty"),
    ({"grid": {"a": [1.0]}, "measures": {"a": "y"}}, "collides with a parameter"),
])
def test_bad_grids_and_measures(kwargs, message):
    kwargs = {"measures": "y", **kwargs}
    with pytest.raises(SweepError, match=message):
        parameter_sweep(_f, client="serial", progress=False, **kwargs)


def test_unknown_names_suggest_the_closest():
    with pytest.raises(SweepError, match="no parameter 'tau_n'.*Did you mean 'tau_m'"):
        parameter_sweep("LIF", {"tau_n": [10.0]}, measures="mean_rate", client="serial")
    with pytest.raises(SweepError, match="Did you mean 'LIF'"):
        parameter_sweep("LFI", {"tau_m": [10.0]}, measures="mean_rate", client="serial")
    with pytest.raises(SweepError, match="unknown measure 'mean_rat'.*Did you mean 'mean_rate'"):
        parameter_sweep("LIF", {"tau_m": [10.0]}, measures="mean_rat", client="serial")
    spec = {"populations": {"E": {"model": "LIF", "n": 2}}}
    with pytest.raises(SweepError, match="no key 'population'.*Did you mean 'populations'"):
        parameter_sweep(spec, {"population.E.n": [2, 3]}, measures="mean_rate",
                        client="serial")
    with pytest.raises(TypeError, match="model must be"):
        parameter_sweep(3, {"a": [1.0]}, measures="y", client="serial")
    with pytest.raises(TypeError, match="client must be"):
        parameter_sweep(_f, {"a": [1.0]}, measures="y", client=3, progress=False)


def test_a_non_scalar_measure_is_a_clear_error_and_writes_nothing(tmp_path):
    store = tmp_path / "s.zarr"
    with pytest.raises(SweepError, match="measure 'v' returned a non-scalar"):
        parameter_sweep(_f, {"a": [1.0, 2.0]}, measures={"v": lambda r: np.ones(3)},
                        client="serial", store=str(store), progress=False)
    assert not store.exists()
    with pytest.raises(SweepError, match="measure 'firing_rate' returned a non-scalar"):
        parameter_sweep("LIF", {"I_nA": [3.0]}, measures="firing_rate",
                        fixed={"duration_ms": 200.0}, client="serial", progress=False)
    with pytest.raises(SweepError, match="has no key 'q'"):
        parameter_sweep(_f, {"a": [1.0]}, measures="q", client="serial", progress=False)


def test_a_store_of_another_sweep_is_refused(tmp_path):
    store = tmp_path / "s.zarr"
    parameter_sweep(_f, {"a": [1.0, 2.0]}, measures="y", client="serial", store=str(store),
                    progress=False)
    listing = sorted(p.name for p in (store / "batches").iterdir())
    with pytest.raises(SweepError, match="holds another sweep.*parameters"):
        parameter_sweep(_f, {"a": [1.0, 3.0]}, measures="y", client="serial",
                        store=str(store), progress=False)
    with pytest.raises(SweepError, match="holds another sweep.*seed"):
        parameter_sweep(_f, {"a": [1.0, 2.0]}, measures="y", client="serial", seed=1,
                        store=str(store), progress=False)
    with pytest.raises(SweepError, match="resume=False"):
        parameter_sweep(_f, {"a": [1.0, 2.0]}, measures="y", client="serial",
                        store=str(store), resume=False, progress=False)
    assert sorted(p.name for p in (store / "batches").iterdir()) == listing
    other = tmp_path / "notes"
    other.mkdir()
    (other / "x.txt").write_text("mine")
    with pytest.raises(SweepError, match="not a sweep store"):
        parameter_sweep(_f, {"a": [1.0]}, measures="y", client="serial", store=str(other),
                        progress=False)
    assert [p.name for p in other.iterdir()] == ["x.txt"]


def test_an_interrupted_batch_write_leaves_no_trace(tmp_path):
    """A batch is a temporary group renamed into place: a killed write leaves a ``.tmp-``
    directory, which the next run ignores and removes."""
    store = tmp_path / "s.zarr"
    parameter_sweep(_f, {"a": [1.0, 2.0, 3.0]}, measures="y", client="serial",
                    store=str(store), batch_size=1, progress=False)
    half = store / "batches" / ".tmp-deadbeef"
    half.mkdir()
    (half / "zarr.json").write_text('{"zarr_format": 3, "node_ty')   # cut mid-write
    ds = parameter_sweep(_f, {"a": [1.0, 2.0, 3.0]}, measures="y", client="serial",
                         store=str(store), batch_size=1, progress=False)
    assert ds.attrs["n_resumed"] == 3 and not half.exists()


def test_unreachable_scheduler_fails_fast():
    import socket

    with socket.socket() as s:                 # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="could not reach a Dask scheduler"):
        parameter_sweep(_f, {"a": [1.0]}, measures="y", client=f"tcp://127.0.0.1:{port}",
                        timeout=2.0, progress=False)
    assert time.monotonic() - t0 < 15.0


def test_map_batches_serial_and_dask(two_workers):
    batches = [[1, 2], [3], [4, 5, 6]]
    assert dict(map_batches(sum, batches, "serial", progress=False)) == {0: 3, 1: 3, 2: 15}
    assert dict(map_batches(sum, batches, two_workers, progress=False)) == {0: 3, 1: 3, 2: 15}
    assert get_client("serial") is None and get_client(two_workers) is two_workers


def test_first_spike_and_cv_against_the_closed_form():
    p = LIFParameters()
    currents = np.array([2.5, 4.0, 8.0])
    ds = parameter_sweep("LIF", {"I_nA": currents}, measures=["first_spike_ms", "cv_isi"],
                         fixed={"duration_ms": 300.0, "dt": DT}, client="serial",
                         progress=False)
    v_inf = p.V_rest + p.R_m * currents
    exact = p.tau_m * np.log((v_inf - p.V_rest) / (v_inf - p.V_threshold))   # from rest
    # the crossing is stamped at the end of its step: 0 <= simulated - exact < dt
    delay = ds["first_spike_ms"].values - exact
    assert np.all(delay >= -1e-9) and np.all(delay < DT + 1e-9), delay
    assert ds["first_spike_ms"].attrs["units"] == "ms"
    # a noiseless LIF is periodic: every interval is the same whole number of steps
    assert np.all(ds["cv_isi"].values < 1e-9)


def test_default_client_is_a_local_cluster_of_the_usable_cores():
    import dask

    from neurosim_nb.fitting import close_client
    from neurosim_nb.fitting.cluster import n_workers, usable_cores

    grid = {"a": np.arange(6.0), "b": np.array([1.0, 3.0])}
    scheduler = dask.config.get("scheduler", None)
    try:
        ds = parameter_sweep(_sweep_models.noisy_product, grid, measures="y", seed=2,
                             progress=False)
        assert n_workers(get_client(None)) == usable_cores() == ds.attrs["n_workers"]
        assert get_client(None) is get_client(None)          # reused across calls
        # not the process's default client: dask's global scheduler option is untouched
        # (else a close out of order leaves it naming a closed client, and xarray's NetCDF
        # writer fails with "Requested dask.distributed scheduler but no Client active")
        assert dask.config.get("scheduler", None) == scheduler
    finally:
        close_client()
    assert dask.config.get("scheduler", None) == scheduler
    serial = parameter_sweep(_sweep_models.noisy_product, grid, measures="y", seed=2,
                             client="serial", progress=False)
    xr.testing.assert_identical(_data(ds), _data(serial))


@pytest.mark.parametrize("family", ["Izhikevich", "Hodgkin-Huxley", "Adaptive LIF", "AdEx"])
def test_every_family_batched_equals_one_neuron_runs(family):
    """A batch is one population with per-neuron parameter arrays: each neuron must run as
    it would alone (a one-neuron population per point, simulated directly)."""
    from neurosim_nb.core.neurons.registry import MODEL_FAMILIES

    cls = MODEL_FAMILIES[family]
    info = cls.parameters_class.field_info()
    name = next(k for k, v in info.items() if not v["optional"] and v["unit"] not in ("1", ""))
    default, current = info[name]["default"], cls.demo_current()
    grid = {name: [default, default * 1.1], "I_nA": [0.0, current, 2 * current]}
    ds = parameter_sweep(family, grid, measures=["spike_count"],
                         fixed={"duration_ms": 200.0}, client="serial", progress=False)
    assert ds[name].attrs["units"] == info[name]["unit"]
    assert ds["I_nA"].attrs["units"] == cls.current_units
    for a, value in enumerate(grid[name]):
        for b, current in enumerate(grid["I_nA"]):
            pop = cls(cls.parameters_class().replace(**{name: value}), n=1)
            run = pop.simulate(200.0, np.array([current]), dt=0.1, record=(), seed=0,
                               verbose=False)
            assert ds["spike_count"].values[a, b] == run["spike_time"].size
    assert ds["spike_count"].values[:, 2].min() > 0     # the demo current makes them fire


def test_progress_callback_counts_points():
    seen = []
    parameter_sweep(_f, {"a": np.arange(7.0)}, measures="y", client="serial", batch_size=3,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 7), (3, 7), (5, 7), (7, 7)]   # 7 points in 3 even batches: 3, 2, 2
    with pytest.raises(TypeError, match="progress must be"):
        parameter_sweep(_f, {"a": [1.0]}, measures="y", client="serial", progress="yes")

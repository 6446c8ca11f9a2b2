"""method="adaptive": error-controlled Dormand-Prince steps, spike times inside a step, exact
delays. Every reference is independent of the package's kernels: closed forms (LIF), scipy
``solve_ivp`` (DOP853 at 1e-11/1e-12, equations written here from the papers), NEST's
astrocyte trace, and the fixed-step scheme's own convergence for networks.

Tolerances: a step's local error is kept below ``atol + rtol |y|``; over a run the spike-time
error grows with the number of spikes, so each test states the measured error and asserts a
bound about 10x above it (still orders of magnitude below what fixed steps reach at the
same cost)."""

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import solve_ivp

from neurosim_nb import (
    AdExNeuron,
    HodgkinHuxleyNeuron,
    IzhikevichNeuron,
    LIFNeuron,
    Network,
)
from neurosim_nb.core.neurons.adaptive_lif import AdaptiveLIFNeuron
from neurosim_nb.core.neurons.astrocyte import AstrocytePopulation
from neurosim_nb.core.neurons.sources import PoissonSource, SpikeTimesSource
from neurosim_nb.core.synapses.stdp import STDP
from neurosim_nb.stimuli import StepCurrent


def _piecewise_reference(f, y0, t_end, threshold, reset, t_ref=0.0, clamp=None):
    """Spike times of dy/dt = f(t, y) with a threshold on y[0] (upward, located by
    solve_ivp's event finder) and a reset, integrated piece by piece by DOP853 at
    rtol = atol = 1e-12. ``clamp(y)``: the derivative while refractory (V held)."""
    ev = lambda t, y: y[0] - threshold  # noqa: E731
    ev.terminal, ev.direction = True, 1
    t, y, spikes = 0.0, np.asarray(y0, float), []
    while t < t_end:
        sol = solve_ivp(f, (t, t_end), y, method="DOP853", rtol=1e-12, atol=1e-12, events=ev)
        if sol.status != 1:
            break
        t = float(sol.t_events[0][0])
        spikes.append(t)
        y = reset(sol.y_events[0][0])
        if t_ref > 0.0:
            hold = solve_ivp(clamp, (t, min(t + t_ref, t_end)), y, method="DOP853",
                             rtol=1e-12, atol=1e-12)
            t, y = float(hold.t[-1]), hold.y[:, -1]
    return np.array(spikes)


def _adaptive(pop, duration, current, tol, **kw):
    return pop.simulate(duration, current, dt=0.1, method="adaptive", rtol=tol, atol=tol,
                        seed=0, verbose=False, **kw)


def test_lif_spike_times_are_the_closed_form():
    """LIF at constant drive: first spike at tau ln(RI / (RI - (Vth - Vrest))) = 21.972 ms,
    then every t_ref + tau ln((RI - (Vreset - Vrest)) / (RI - (Vth - Vrest))) ms. Measured
    error at 1e-8: < 1e-6 ms over 10 spikes (fixed dt = 0.1 ms: up to 0.1 ms)."""
    pop = LIFNeuron.create_excitatory()
    ds = _adaptive(pop, 200.0, 0.3, 1e-8)
    tau, ri = 20.0, 30.0
    first = tau * np.log(ri / (ri - 20.0))
    isi = 2.0 + tau * np.log((ri - 10.0) / (ri - 20.0))
    expected = first + isi * np.arange(ds.spike_time.size)
    assert ds.spike_time.size == int((200.0 - first) // isi) + 1
    np.testing.assert_allclose(ds.spike_time.values, expected, atol=1e-5)
    assert ds.attrs["method"] == "adaptive" and ds.attrs["n_steps_accepted"] > 0
    # the trace: V held at reset during the 2 ms refractory period after the first spike
    v = ds.V.sel(neuron=0)
    held = v.sel(time=slice(first + 0.05, first + 1.95)).values
    np.testing.assert_array_equal(held, -60.0)


def _squid_reference(i_density=10.0, t_end=200.0):
    neuron = HodgkinHuxleyNeuron.create_squid_axon()
    p = neuron.params
    phi = float(p.rate_factor())

    def f(t, y):  # Hodgkin & Huxley 1952, modern convention (Dayan & Abbott 2001, 5.6)
        v, m, h, n = y
        am = 0.1 * (v + 40) / (1 - np.exp(-(v + 40) / 10))
        bm = 4 * np.exp(-(v + 65) / 18)
        ah = 0.07 * np.exp(-(v + 65) / 20)
        bh = 1 / (1 + np.exp(-(v + 35) / 10))
        an = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10))
        bn = 0.125 * np.exp(-(v + 65) / 80)
        i_ion = p.g_Na * m**3 * h * (v - p.E_Na) + p.g_K * n**4 * (v - p.E_K) + \
            p.g_L * (v - p.E_L)
        return [(i_density - i_ion) / p.C_m, phi * (am * (1 - m) - bm * m),
                phi * (ah * (1 - h) - bh * h), phi * (an * (1 - n) - bn * n)]

    ev = lambda t, y: y[0] - p.V_spike_threshold  # noqa: E731
    ev.direction = 1
    sol = solve_ivp(f, (0, t_end), neuron._state[:4, 0], method="DOP853", rtol=1e-12,
                    atol=1e-12, events=ev)
    return neuron, sol.t_events[0]


def test_hh_squid_spike_times_against_solve_ivp_with_fewer_steps_than_fixed():
    """HH squid axon at 10 uA/cm2, 200 ms, 14 spikes. Measured max spike-time error: 1.9e-3
    ms at rtol = atol = 1e-4 (801 steps), 1.1e-5 ms at 1e-6 (1663 steps); the fixed scheme
    needs dt = 0.001 ms (200 000 steps) for 1.0e-3 ms."""
    neuron, ref = _squid_reference()
    assert ref.size == 14
    errors, steps = {}, {}
    for tol in (1e-4, 1e-6):
        neuron.reset_state()
        ds = neuron.simulate(200.0, current_density=10.0, dt=0.1, method="adaptive",
                             rtol=tol, atol=tol, record=(), seed=0, verbose=False)
        assert ds.spike_time.size == ref.size
        errors[tol] = np.abs(ds.spike_time.values - ref).max()
        steps[tol] = ds.attrs["n_steps_accepted"]
    assert errors[1e-4] < 1e-2 and errors[1e-6] < 1e-4
    assert errors[1e-6] < errors[1e-4] / 10  # tighter tolerance, smaller error
    neuron.reset_state()
    fixed = neuron.simulate(200.0, current_density=10.0, dt=0.001, record=(), seed=0,
                            verbose=False)
    fixed_error = np.abs(fixed.spike_time.values - ref).max()
    # the adaptive run at 1e-6 is 100x more accurate with < 1/50 of the steps
    assert errors[1e-6] < fixed_error / 10 and steps[1e-6] < fixed.attrs["n_steps"] / 50


def test_izhikevich_presets_against_solve_ivp():
    """RS, FS and CH at I = 10 for 300 ms: spike times (v reaching v_peak = 30 mV, reset
    v = c, u += d) against DOP853 at 1e-12; measured max error 3e-5 ms at 1e-8."""
    for preset in ("RS", "FS", "CH"):
        pop = IzhikevichNeuron.from_preset(preset)
        a, b, c, d = (float(getattr(pop.params, k)) for k in "abcd")
        y0 = pop._state[:, 0].copy()
        ref = _piecewise_reference(
            lambda t, y: [0.04 * y[0] ** 2 + 5 * y[0] + 140 - y[1] + 10.0,  # noqa: B023
                          a * (b * y[0] - y[1])],  # noqa: B023
            y0, 300.0, 30.0, lambda y: [c, y[1] + d])  # noqa: B023
        ds = _adaptive(pop, 300.0, 10.0, 1e-8, record=())
        assert ds.spike_time.size == ref.size, preset
        np.testing.assert_allclose(ds.spike_time.values, ref, atol=5e-4, err_msg=preset)


@pytest.mark.parametrize("preset", ["tonic", "adapting", "initial_burst"])
def test_adex_naud_presets_against_solve_ivp(preset):
    """AdEx (Naud et al. 2008 presets at their published current) for 300 ms; V_peak = 0 mV
    is reached through the exponential upswing. Measured max error < 1e-4 ms at 1e-8."""
    pop = AdExNeuron.from_preset(preset)
    p = pop.params
    i = AdExNeuron.demo_current(preset)

    def f(t, y):
        v, w = y
        arg = min((v - p.V_T) / p.Delta_T, 50.0)
        return [(-p.g_L * (v - p.E_L) + p.g_L * p.Delta_T * np.exp(arg) - w + i) / p.C,
                (p.a * (v - p.E_L) - w) / p.tau_w]

    ref = _piecewise_reference(f, pop._state[:2, 0], 300.0, p.V_peak,
                               lambda y: [p.V_r, y[1] + p.b])
    ds = _adaptive(pop, 300.0, i, 1e-8, record=())
    assert ref.size > 3 and ds.spike_time.size == ref.size
    np.testing.assert_allclose(ds.spike_time.values, ref, atol=1e-3)


def test_adaptive_lif_refractory_clamp_against_solve_ivp():
    """Adaptive LIF (a, b > 0, 2 ms refractory with V held at reset while w relaxes)."""
    pop = AdaptiveLIFNeuron.from_preset("adapting")
    p = pop.params
    i = 0.5

    def f(t, y):
        v, w = y
        return [(p.V_rest - v + p.R_m * (i - w)) / p.tau_m, (p.a * (v - p.V_rest) - w) / p.tau_w]

    def hold(t, y):
        return [0.0, (p.a * (y[0] - p.V_rest) - y[1]) / p.tau_w]

    ref = _piecewise_reference(f, [p.V_rest, 0.0], 400.0, p.V_threshold,
                               lambda y: [p.V_reset, y[1] + p.b], t_ref=p.t_refractory,
                               clamp=hold)
    ds = _adaptive(pop, 400.0, i, 1e-9, record=("V", "w"))
    assert ref.size > 5 and ds.spike_time.size == ref.size
    np.testing.assert_allclose(ds.spike_time.values, ref, atol=1e-5)
    isi = np.diff(ref)
    assert isi[-1] > 1.2 * isi[0]  # it adapts (the reference says so too)


def test_delays_are_exact_off_the_grid():
    """A source spike at 1.0 ms through a delta synapse (25 mV) with a 2.53 ms delay fires a
    LIF neuron at rest at exactly 3.53 ms (fixed steps: at the end of the step, 3.6 ms)."""
    net = Network(seed=0)
    net.add_population("src", SpikeTimesSource([[1.0]]))
    net.add_population("lif", LIFNeuron.create_excitatory())
    net.add_projection("src", "lif", [0], [0], 25.0, 2.53, "delta")
    ds = net.simulate(10.0, dt=0.1, method="adaptive", verbose=False, seed=0)
    times = ds.spike_time.values[ds.spike_neuron.values == 1]
    assert times.size == 1 and abs(times[0] - 3.53) < 1e-9


def _small_network(method, dt, tol=1e-9):
    """3 excitatory + 1 inhibitory LIF with conductance synapses (dual exponential AMPA,
    GABA-A) and heterogeneous delays, driven by constant currents."""
    net = Network(seed=3)
    net.add_population("e", LIFNeuron.create_excitatory(n=3))
    net.add_population("i", LIFNeuron.create_inhibitory(n=1))
    net.add_projection("e", "e", [0, 1, 2, 0], [1, 2, 0, 2], [0.004, 0.003, 0.005, 0.002],
                       [1.5, 2.25, 1.8, 3.1], "AMPA")
    net.add_projection("e", "i", [0, 1, 2], [0, 0, 0], 0.004, 1.2, "AMPA")
    net.add_projection("i", "e", [0, 0, 0], [0, 1, 2], [0.01, 0.02, 0.015], 1.7, "GABA_A")
    net.add_stimulus("e", StepCurrent(np.array([0.26, 0.24, 0.25])))
    kw = {"method": "adaptive", "rtol": tol, "atol": tol} if method == "adaptive" else {}
    return net.simulate(300.0, dt=dt, verbose=False, seed=0, record=(), **kw)


def test_small_network_is_the_fixed_step_limit():
    """The fixed scheme converges to the adaptive spike trains: the same spikes of the same
    neurons, the max spike-time difference first order in dt (measured over 300 ms and 47
    spikes: 0.033 ms at dt = 0.002, 0.012 at 0.001 -- network interactions amplify the
    fixed scheme's step-end stamping, about 12 dt)."""
    ad = _small_network("adaptive", 0.1)
    assert ad.spike_time.size > 20
    diffs = []
    for dt in (0.004, 0.001):
        fx = _small_network("fixed", dt)
        assert fx.spike_time.size == ad.spike_time.size, dt
        order_a = np.lexsort((ad.spike_time.values, ad.spike_neuron.values))
        order_f = np.lexsort((fx.spike_time.values, fx.spike_neuron.values))
        np.testing.assert_array_equal(ad.spike_neuron.values[order_a],
                                      fx.spike_neuron.values[order_f])
        diffs.append(np.abs(ad.spike_time.values[order_a] - fx.spike_time.values[order_f]).max())
    assert diffs[1] < 0.025
    assert diffs[1] < diffs[0] / 2.5  # dt / 4: the difference shrinks ~4x (first order)


def test_adaptive_astrocyte_reproduces_nest_trace():
    """NEST's astrocyte_lr_1994 test trace (start 1/1/1, one spike of weight 1 at 10 ms): every
    0.1 ms sample within rel 1e-6 (pytest.approx's default, NEST's test tolerance), except
    the sample at 10 ms itself (NEST's sample shows the jump, ours the state before it)."""
    from pathlib import Path

    ref = np.loadtxt(Path(__file__).parents[1] / "core" / "data" / "nest_test_astrocyte.dat")
    net = Network(seed=0)
    net.add_population("src", SpikeTimesSource([[5.0]]))
    net.add_population("a", AstrocytePopulation.from_preset("nest_test"))
    net.add_projection("src", "a", [0], [0], 1.0, 5.0, "delta")
    ds = net.simulate(100.0, dt=0.1, method="adaptive", rtol=1e-10, atol=1e-10,
                      record=("IP3", "Ca", "h", "SIC"), verbose=False, seed=0)
    got = ds.sel(neuron=1)
    keep = np.abs(ref[:, 0] - 10.0) > 1e-9
    for col, name in ((1, "IP3"), (2, "Ca"), (3, "h")):
        assert got[name].values[:999][keep] == pytest.approx(ref[keep, col]), name


def test_continuation_and_netcdf_round_trip(tmp_path):
    """Two runs of 150 ms continue each other (state, receptor state and spikes in flight)
    like one of 300 ms; the result round-trips through NetCDF with its attrs."""
    whole = _small_network("adaptive", 0.1)
    net = Network(seed=3)
    net.add_population("e", LIFNeuron.create_excitatory(n=3))
    net.add_population("i", LIFNeuron.create_inhibitory(n=1))
    net.add_projection("e", "e", [0, 1, 2, 0], [1, 2, 0, 2], [0.004, 0.003, 0.005, 0.002],
                       [1.5, 2.25, 1.8, 3.1], "AMPA")
    net.add_projection("e", "i", [0, 1, 2], [0, 0, 0], 0.004, 1.2, "AMPA")
    net.add_projection("i", "e", [0, 0, 0], [0, 1, 2], [0.01, 0.02, 0.015], 1.7, "GABA_A")
    net.add_stimulus("e", StepCurrent(np.array([0.26, 0.24, 0.25])))
    kw = {"method": "adaptive", "rtol": 1e-9, "atol": 1e-9, "verbose": False, "seed": 0,
          "record": ()}
    a = net.simulate(150.0, **kw)
    b = net.simulate(150.0, **kw)
    joined = np.concatenate([a.spike_time.values, b.spike_time.values + 150.0])
    assert joined.size == whole.spike_time.size
    np.testing.assert_allclose(joined, whole.spike_time.values, atol=1e-6)
    path = tmp_path / "adaptive.nc"
    a.to_netcdf(path)
    back = xr.load_dataset(path)
    xr.testing.assert_identical(back, a)
    assert back.attrs["n_rhs_evaluations"] == a.attrs["n_rhs_evaluations"]


def test_poisson_sources_drive_adaptive_neurons():
    """Sources emit their scheduled spikes (grid times) in an adaptive run exactly as in a
    fixed one, and every spike reaches its target (a 30 mV delta fires the neuron at the
    arrival, source spike + 1 ms)."""
    net = Network(seed=1)
    net.add_population("src", PoissonSource(n=1, rate_hz=20.0, seed=4))
    net.add_population("lif", LIFNeuron.create_excitatory())
    net.add_projection("src", "lif", [0], [0], 30.0, 1.0, "delta")
    ds = net.simulate(500.0, dt=0.1, method="adaptive", verbose=False, seed=0, record=())
    src = ds.spike_time.values[ds.spike_neuron.values == 0]
    out = ds.spike_time.values[ds.spike_neuron.values == 1]
    assert src.size > 3
    expected = src + 1.0
    expected = expected[expected <= 500.0]
    # refractory 2 ms: a spike arriving within 2 ms of the previous output is dropped
    keep = np.concatenate([[True], np.diff(expected) > 2.0])
    np.testing.assert_allclose(out, expected[keep], atol=1e-9)


def test_user_model_from_a_notebook_cell():
    """A model defined in a cell (functions not importable: compiled in memory) runs
    adaptively: the quadratic integrate-and-fire neuron tau dV/dt = (V - Vr)(V - Vc)/D + RI,
    whose time to V_peak from V0 has a closed form (arctan)."""
    from neurosim_nb._jit import njit
    from neurosim_nb.core.neurons.continuous import ContinuousForm
    from neurosim_nb.core.neurons.point_model import PointModel
    from neurosim_nb.params import ParameterSet, param, parameters

    @parameters
    class QIFParameters(ParameterSet):
        tau: float = param(10.0, "ms", (0.1, 100.0), "membrane time constant")
        V_r: float = param(-65.0, "mV", (-100.0, 0.0), "rest")
        V_c: float = param(-50.0, "mV", (-100.0, 0.0), "critical potential")
        Delta: float = param(15.0, "mV", (0.1, 100.0), "sharpness")
        R: float = param(10.0, "MOhm", (0.1, 1000.0), "input resistance")
        V_peak: float = param(20.0, "mV", (0.0, 100.0), "spike cut-off")
        V_reset: float = param(-70.0, "mV", (-100.0, 0.0), "reset")

    @njit
    def deriv(v, i_in, tau, v_r, v_c, delta, r, v_peak, v_reset):
        return ((v - v_r) * (v - v_c) / delta + r * i_in) / tau,

    @njit
    def reset(v, tau, v_r, v_c, delta, r, v_peak, v_reset):
        return v_reset,

    class QIF(PointModel):
        parameters_class = QIFParameters
        state_variables = {"V": ("mV", "membrane potential")}
        continuous = ContinuousForm(states=("V",), rows=tuple(QIFParameters.field_info()),
                                    derivatives=deriv, threshold="V_peak", reset=reset)

        def _initial_state(self):
            return self.params.per_neuron("V_r", self.n)[None, :].copy()

    ds = QIF().simulate(100.0, 1.0, dt=0.1, method="adaptive", rtol=1e-9, atol=1e-9,
                        seed=0, verbose=False)
    # dV/dt = ((V - m)^2 + k) / (tau D) with m = (Vr + Vc)/2, k = R I D - ((Vc - Vr)/2)^2
    m, k = -57.5, 10.0 * 15.0 - 7.5 ** 2
    s = np.sqrt(k)

    def travel(v0):
        return 10.0 * 15.0 / s * (np.arctan((20.0 - m) / s) - np.arctan((v0 - m) / s))

    expected = travel(-65.0) + travel(-70.0) * np.arange(ds.spike_time.size)
    np.testing.assert_allclose(ds.spike_time.values, expected, atol=1e-5)
    assert ds.spike_time.size == int((100.0 - travel(-65.0)) // travel(-70.0)) + 1


def test_clear_errors():
    pop = LIFNeuron()
    with pytest.raises(ValueError, match="method must be one of"):
        pop.simulate(10.0, method="rk4")
    with pytest.raises(ValueError, match="rtol"):
        pop.simulate(10.0, method="adaptive", rtol=-1.0)
    with pytest.raises(ValueError, match="rtol must be a finite number"):
        pop.simulate(10.0, method="adaptive", rtol=0.0)
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(n=2))
    net.connect("a", "a", "all_to_all", weight=0.001, dynamics=STDP())
    with pytest.raises(ValueError, match="plasticity"):
        net.simulate(10.0, method="adaptive", verbose=False)
    net = Network(seed=0)
    net.add_population("a", LIFNeuron(n=2))
    net.add_projection("a", "a", [0], [1], 1.0, 0.05, "delta")
    with pytest.raises(ValueError, match="at least dt"):
        net.simulate(10.0, dt=0.1, method="adaptive", verbose=False)
    from neurosim_nb.cable.cell import Cell  # noqa: F401 (a population without a form)
    from neurosim_nb.cable.population import CellPopulation
    from neurosim_nb.experiments.cable import unmyelinated_axon_cell

    net = Network(seed=0)
    net.add_population("c", CellPopulation(unmyelinated_axon_cell(1.0, 200.0, stimulus=False), 1))
    with pytest.raises(ValueError, match="continuous-time form"):
        net.simulate(1.0, method="adaptive", verbose=False)

"""Astrocytes (Li-Rinzel, NEST astrocyte_lr_1994): NEST's reference trace, the oscillation
window and period with IP3 clamped (scipy solve_ivp reference), the slow inward current
(NEST's formula, solve_ivp of the neuron), gliotransmission and the NetCDF round trip."""

from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from neurosim_nb import LIFNeuron, Network
from neurosim_nb.core.neurons.astrocyte import (
    AstrocyteParameters,
    AstrocytePopulation,
    SlowInwardCurrent,
)
from neurosim_nb.core.synapses.gliotransmission import GliotransmitterTM
from neurosim_nb.stimuli import StepCurrent

DATA = Path(__file__).parent / "data" / "nest_test_astrocyte.dat"
P = AstrocyteParameters()


def _rhs(t, y, ip3_clamp=None):
    """Li-Rinzel right-hand side written from NEST's documentation (independent of the
    package's compiled one)."""
    ip3, ca, h = y
    if ip3_clamp is not None:
        ip3 = ip3_clamp
    ca = min(max(ca, 0.0), P.Ca_tot)
    ca_er = (P.Ca_tot - ca) / P.ratio_ER_cyt
    m = ip3 / (ip3 + P.Kd_IP3_1)
    n = ca / (ca + P.Kd_act)
    j_chan = P.ratio_ER_cyt * P.rate_IP3R * (m * n * h) ** 3 * (ca_er - ca)
    j_pump = P.rate_SERCA * ca ** 2 / (P.Km_SERCA ** 2 + ca ** 2)
    j_leak = P.ratio_ER_cyt * P.rate_L * (ca_er - ca)
    a_h = P.k_IP3R * P.Kd_inh * (ip3 + P.Kd_IP3_1) / (ip3 + P.Kd_IP3_2)
    dip3 = 0.0 if ip3_clamp is not None else (P.IP3_0 - ip3) / P.tau_IP3
    return [dip3, j_chan - j_pump + j_leak, a_h * (1 - h) - P.k_IP3R * ca * h]


@pytest.mark.second_process  # (balances the two test processes)
def test_nest_reference_trace_through_a_network():
    """NEST's test: start 1/1/1, one spike of weight 1 arriving in the step ending at 10 ms;
    IP3, Ca and h within pytest.approx's default (rel 1e-6) at every 0.1 ms sample. The spike
    comes from a LIF neuron through a delta projection (the network path)."""
    ref = np.loadtxt(DATA)
    net = Network(seed=0)
    net.add_population("n", LIFNeuron(n=1))
    net.add_population("a", AstrocytePopulation.from_preset("nest_test"))
    # a 0.5 ms pulse makes the neuron fire once, in step s (spike_time = (s + 1) dt, the end
    # of the step); a spike of step s with a delay of d steps arrives in step s + d + 1, and
    # NEST's spike arrives in step 99 (9.9 -> 10 ms): d = 98 - s
    pulse = StepCurrent(60.0, onset_ms=2.0, duration_ms=0.5)
    probe = LIFNeuron(n=1).simulate(10.0, [pulse], verbose=False)
    assert probe.spike_time.size == 1
    s = int(round(float(probe.spike_time.values[0]) / 0.1)) - 1
    net.add_projection("n", "a", [0], [0], 1.0, (98 - s) * 0.1, "delta")
    net.add_stimulus("n", pulse)
    ds = net.simulate(100.0, record=("IP3", "Ca", "h"), verbose=False, seed=0)
    assert ds.spike_time.size == 1
    got = ds.sel(neuron=1)
    for col, name in ((1, "IP3"), (2, "Ca"), (3, "h")):
        assert got[name].values[:999] == pytest.approx(ref[:, col]), name
    np.testing.assert_allclose(ds.time.values[:999], ref[:, 0], rtol=1e-12)


def _period(t, ca, t_from):
    """Mean interval between upward crossings of the mid-level of Ca after ``t_from``."""
    sel = t >= t_from
    t, ca = t[sel], ca[sel]
    amp = ca.max() - ca.min()
    if amp < 1e-3:
        return 0.0, amp
    mid = 0.5 * (ca.max() + ca.min())
    up = np.nonzero((ca[:-1] < mid) & (ca[1:] >= mid))[0]
    tc = t[up] + (mid - ca[up]) / (ca[up + 1] - ca[up]) * (t[up + 1] - t[up])
    return (float(np.mean(np.diff(tc))) if tc.size > 2 else 0.0), amp


def test_clamped_ip3_oscillation_window_and_period():
    """IP3 held fixed (tau_IP3 huge, IP3 = IP3_0): calcium oscillates only inside the
    Li-Rinzel window of IP3, with the period of a solve_ivp (LSODA, rtol 1e-9) solution of
    the same equations; periods agree within 1 % (dt 1 ms RK4, crossings interpolated)."""
    ip3 = np.array([0.2, 0.4, 0.5, 1.0, 3.0])
    t_end, t_from = 400_000.0, 200_000.0  # ms
    pop = AstrocytePopulation(AstrocyteParameters(IP3_0=ip3, IP3_init=ip3, tau_IP3=1e12),
                              n=ip3.size)
    ds = pop.simulate(t_end, dt=1.0, record=("Ca",), sample_every=20, verbose=False)
    t = ds.time.values
    osc_sim, osc_ref = [], []
    for i, v in enumerate(ip3):
        sol = solve_ivp(_rhs, (0.0, t_end), [v, P.Ca_init, P.h_init], method="LSODA",
                        rtol=1e-9, atol=1e-12, t_eval=t, args=(v,))
        per_r, amp_r = _period(t, sol.y[1], t_from)
        per_s, amp_s = _period(t, ds.Ca.values[:, i], t_from)
        osc_ref.append(per_r > 0)
        osc_sim.append(per_s > 0)
        if per_r > 0:
            assert per_s == pytest.approx(per_r, rel=0.01), v
            assert amp_s == pytest.approx(amp_r, rel=0.01), v
    assert osc_sim == osc_ref
    # a window: not at low IP3, oscillating in between, and not at high IP3
    assert not osc_ref[0] and any(osc_ref) and not osc_ref[-1]


@pytest.mark.second_process  # (LIF + astrocyte loop: compiled there anyway)
def test_slow_inward_current_depolarises_as_nest_formula():
    """A passive LIF neuron (threshold out of reach) receiving w * SIC of one astrocyte with
    high calcium: V against solve_ivp of tau dV/dt = -(V - E) + R w I_SIC(Ca(t)), with
    I_SIC = ln((Ca - SIC_th)/nM) pA from the recorded Ca (NEST's formula); within 0.01 mV
    (the engine holds the current over each 0.1 ms step)."""
    net = Network(seed=0)
    lif = net.add_population("n", LIFNeuron(n=1))
    lif.params = lif.params.replace(V_threshold=50.0)
    net.add_population("a", AstrocytePopulation.from_preset("nest", Ca_init=0.8))
    w = 200.0
    net.add_coupling(SlowInwardCurrent("a", "n", [0], [0], weight=w, hold_ms=0.1))
    ds = net.simulate(200.0, record=("V", "Ca", "SIC"), verbose=False, seed=0)
    t = np.concatenate([[0.0], ds.time.values])
    ca = np.concatenate([[0.8], ds.Ca.sel(neuron=1).values])
    sic_pA = np.where((ca - P.SIC_th) * 1e3 > 1, np.log(np.maximum((ca - P.SIC_th) * 1e3, 1)),
                      0.0)
    np.testing.assert_allclose(ds.SIC.sel(neuron=1).values, sic_pA[1:], rtol=1e-12)
    p = lif.params
    i_nA = lambda s: w * 1e-3 * np.interp(s, t, sic_pA)  # noqa: E731
    sol = solve_ivp(lambda s, v: (-(v - p.V_rest) + p.R_m * i_nA(s)) / p.tau_m, (0, 200.0),
                    [p.V_rest], t_eval=ds.time.values, rtol=1e-10, atol=1e-10, max_step=0.05)
    v = ds.V.sel(neuron=0).values
    assert v[-1] - p.V_rest > 5.0  # a real depolarisation (about R w SIC = 10 mV)
    np.testing.assert_allclose(v, sol.y[0], atol=1e-2)


@pytest.mark.second_process  # (LIF + astrocyte loop: compiled there anyway)
def test_gliotransmission_modulates_release_probability():
    """A depressing TM synapse (delta receptor, w = 1 mV) onto a passive neuron: its first
    EPSP is w * U * exp(-dt / tau_m) (the jump, then one step of leak) with
    U = (1 - xi G) U0 + xi alpha G and G = Ca^4 / (Ca^4 + K^4) of its astrocyte's calcium at
    the spike (De Pitta et al. 2011); within 0.1 % (U uses the calcium at the start of the
    delivering block, a step or so before the sample read here: 3e-4 measured)."""
    for ca0 in (0.0, 0.4):
        net = Network(seed=0)
        net.add_population("pre", LIFNeuron(n=1))
        post = net.add_population("post", LIFNeuron(n=1))
        post.params = post.params.replace(V_threshold=50.0)
        astro = net.add_population("a", AstrocytePopulation.from_preset("nest", Ca_init=ca0))
        tm = GliotransmitterTM(astro, [0], xi=1.0, alpha=0.9, K_G=0.4, U=0.5, tau_rec=800.0)
        net.add_projection("pre", "post", [0], [0], 1.0, 1.0, "delta", dynamics=tm)
        net.add_stimulus("pre", StepCurrent(60.0, onset_ms=2.0, duration_ms=0.5))
        ds = net.simulate(20.0, record=("V", "Ca"), verbose=False, seed=0)
        assert ds.spike_time.size == 1
        ca = float(ds.Ca.sel(neuron=2).sel(time=ds.spike_time.values[0], method="nearest"))
        g = ca ** 4 / (ca ** 4 + 0.4 ** 4)
        u = (1 - g) * 0.5 + g * 0.9
        jump = np.max(np.diff(ds.V.sel(neuron=1).values))
        assert jump == pytest.approx(u * np.exp(-0.1 / post.params.tau_m), rel=1e-3), ca0
        assert (u > 0.69) == (ca0 > 0)  # calcium-rich astrocyte: more release


@pytest.mark.second_process  # (LIF + astrocyte loop: compiled there anyway)
def test_netcdf_round_trip(tmp_path):
    from neurosim_nb.export.netcdf import load_simulation, save_simulation

    net = Network(seed=0)
    net.add_population("n", LIFNeuron(n=2))
    net.add_population("a", AstrocytePopulation(n=2))
    net.add_coupling(SlowInwardCurrent("a", "n", [0, 1], [0, 1]))
    ds = net.simulate(5.0, record=("V", "IP3", "Ca", "h", "SIC"), verbose=False, seed=0)
    assert ds.Ca.attrs["units"] == "uM" and np.isnan(ds.V.values[:, 2:]).all()
    back = load_simulation(save_simulation(ds, tmp_path / "astro.nc"))
    for name in ("V", "IP3", "Ca", "h", "SIC"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].attrs["units"] == ds[name].attrs["units"]
    from neurosim_nb.export.io import load_result, save_result

    for fmt in ("npz", "json"):  # the other Dataset formats keep them too
        other = load_result(save_result(ds, tmp_path / "astro", format=fmt)[0])
        np.testing.assert_array_equal(other.Ca.values, ds.Ca.values)


def test_bad_inputs():
    with pytest.raises(ValueError, match="hold_ms"):
        SlowInwardCurrent("a", "n", [0], [0], hold_ms=0.0)
    with pytest.raises(ValueError, match="same length"):
        SlowInwardCurrent("a", "n", [0, 1], [0])
    net = Network(seed=0)
    net.add_population("n", LIFNeuron(n=1))
    with pytest.raises(ValueError, match="not a population"):
        net.add_coupling(SlowInwardCurrent("astro", "n", [0], [0]))
    with pytest.raises(ValueError, match="xi"):
        GliotransmitterTM(AstrocytePopulation(), [0], xi=2.0)


@pytest.mark.second_process  # (LIF + astrocyte loop: compiled there anyway)
def test_network_ip3_is_the_closed_form_of_received_spikes():
    """In the example network each astrocyte's IP3 obeys a linear ODE with jumps of
    delta_IP3 * w at every received spike (arriving 1 ms after it), so
    IP3(T) = IP3_0 + sum_k delta_IP3 w exp(-(T - t_k) / tau_IP3); rtol 1e-4 (an arrival is
    known to a step: 0.1 ms / 7142 ms per spike)."""
    from neurosim_nb.core.networks.astrocytes import astrocyte_network

    net = astrocyte_network(n_exc=80, n_inh=20, n_astro=10, delta_IP3_uM=0.01, seed=3)
    T = 300.0
    ds = net.simulate(T, record=("IP3",), sample_every=100, verbose=False, seed=3)
    assert ds.spike_time.size > 50
    proj = next(p for p in net.projections if p.post == "astro")
    par = net.populations["astro"].params
    t_spk, n_spk = ds.spike_time.values, ds.spike_neuron.values  # exc ids are the first
    expected = np.full(10, par.IP3_0)
    for i, j in zip(proj.pre_idx, proj.post_idx, strict=True):
        arrive = t_spk[n_spk == i] + 1.0
        arrive = arrive[arrive <= T + 1e-9]
        expected[j] += par.delta_IP3 * np.exp(-(T - arrive) / par.tau_IP3).sum()
    got = ds.IP3.values[-1, ds.population.values == "astro"]
    assert got.min() > par.IP3_0 + 0.01
    np.testing.assert_allclose(got, expected, rtol=1e-4)

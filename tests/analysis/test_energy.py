"""ATP budgets (Attwell & Laughlin 2001) and the Na+ cost of Hodgkin-Huxley spikes.

Published values used (Attwell D, Laughlin SB 2001, J Cereb Blood Flow Metab 21:1133-1145,
rodent grey matter; values as tabulated in their energy budget):
  3.84e8 ATP per action potential; 1.64e5 ATP per vesicle released; release probability
  0.25 at each of 8000 synapses per neuron (2000 vesicles per spike); 3.42e8 ATP/s for a
  neuron's resting potential and 1.02e8 ATP/s for a glial cell's; at 4 Hz the total is
  3.29e9 ATP/s per neuron (their p. 1139; also BioNumbers 108672).
Independent Na+ references:
  the Hodgkin-Huxley ODE solved here with scipy (LSODA, rtol 1e-10) for one spike;
  the Na+ entry ratio Q_Na / (C dV) of the HH squid axon model ~4 at 18 degC (Yu, Hill &
  McCormick 2012, PLoS Comput Biol 8:e1002456, Fig. 5A; Carter & Bean 2009, Neuron
  64:898; Attwell & Laughlin's factor 4), and larger at colder temperatures (more
  overlap of Na+ and K+ currents).
"""

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import solve_ivp

from neurosim_nb import HodgkinHuxleyNeuron, LIFNeuron, Network
from neurosim_nb.analysis.energy import (
    ELEMENTARY_CHARGE_C,
    atp_consumption,
    hh_sodium_atp,
)
from neurosim_nb.stimuli import StepCurrent

AP, VESICLE, P_REL, SYN, REST, GLIA = 3.84e8, 1.64e5, 0.25, 8000.0, 3.42e8, 1.02e8


def test_hand_computed_budget_of_a_small_spike_train():
    trains = [[10.0, 20.0, 30.0], [], [500.0]]  # 3, 0 and 1 spikes in 2 s
    e = atp_consumption(trains, t_stop=2000.0, n_synapses_per_spike=[100.0, 50.0, 10.0])
    counts = np.array([3, 0, 1])
    k = np.array([100.0, 50.0, 10.0])
    expected = np.stack([counts * AP, counts * k * P_REL * VESICLE, np.full(3, 2.0 * REST)], 1)
    np.testing.assert_allclose(e.atp.values, expected, rtol=1e-12)
    np.testing.assert_allclose(e.atp_rate.values, expected / 2.0, rtol=1e-12)
    # neuron 0: 3 x 3.84e8 + 3 x 100 x 0.25 x 1.64e5 + 2 s x 3.42e8
    #         = 1.152e9 + 1.23e7 + 6.84e8 = 1.8483e9 ATP
    assert float(e.atp_sum[0]) == pytest.approx(1.8483e9, rel=1e-12)
    np.testing.assert_allclose(e.total_atp.values, expected.sum(0), rtol=1e-12)
    assert e.spike_count.values.tolist() == [3, 0, 1]
    np.testing.assert_allclose(e.synaptic_events, counts * k)
    assert e.atp.attrs["units"] == "ATP" and e.atp_rate.attrs["units"] == "ATP/s"
    assert "Attwell" in e.attrs["reference"]


def test_attwell_laughlin_4hz_neuron_costs_3_29e9_atp_per_s():
    e = atp_consumption([np.arange(1, 41) * 250.0], t_stop=10000.0, glia_per_neuron=1.0)
    # 4 x (3.84e8 + 2000 x 1.64e5) + 3.42e8 + 1.02e8 = 3.292e9; published: 3.29e9
    assert float(e.total_atp_rate.sum()) == pytest.approx(3.29e9, rel=1e-3)
    # their split: action potentials 47 %, resting potentials 13 % (abstract)
    share = e.total_atp_rate / e.total_atp_rate.sum()
    assert float(share.sel(category="action_potentials")) == pytest.approx(0.47, abs=0.01)
    assert float(share.sel(category=["resting", "glial"]).sum()) == pytest.approx(0.13, abs=0.01)


def test_out_degree_from_the_network():
    net = Network(seed=3)
    net.add_population("a", LIFNeuron.create_excitatory(n=20))
    net.add_population("b", LIFNeuron.create_excitatory(n=10))
    net.connect("a", "b", "fixed_probability", p=0.3, weight=0.001)
    net.connect("b", "a", "fixed_probability", p=0.5, weight=0.001)
    ds = net.simulate(200.0, seed=1, record=(), stimuli={"a": [StepCurrent(0.5)],
                                                           "b": [StepCurrent(0.5)]})
    e = atp_consumption(ds, network=net)
    # independent count: rows of the dense connectivity matrix (pre x post)
    dense = np.asarray(net.connectivity_matrix(sparse=False, weighted=False))
    degree = (dense != 0).sum(axis=1)
    counts = np.bincount(ds.spike_neuron.values, minlength=30)
    assert counts.sum() > 0
    np.testing.assert_allclose(e.synaptic_events, counts * degree)
    np.testing.assert_allclose(e.atp.sel(category="synaptic"),
                               counts * degree * P_REL * VESICLE)
    assert e.population.values.tolist() == ["a"] * 20 + ["b"] * 10
    with pytest.raises(ValueError, match="not both"):
        atp_consumption(ds, network=net, n_synapses_per_spike=5)


def test_energy_edge_cases(tmp_path):
    ds = LIFNeuron.create_excitatory(n=3).simulate(500.0, 0.0, seed=0, record=())
    assert ds.sizes["spike"] == 0  # no spikes: resting cost only
    e = atp_consumption(ds)
    np.testing.assert_allclose(e.atp.sel(category="resting"), 0.5 * REST)
    assert float(e.atp.sel(category=["action_potentials", "synaptic"]).sum()) == 0.0
    path = tmp_path / "e.nc"
    e.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), e)
    one = atp_consumption(np.array([5.0]), t_stop=1000.0, n_synapses_per_spike=0)
    assert float(one.atp_sum[0]) == AP + REST  # a single spike
    with pytest.raises(ValueError, match="not finite"):
        atp_consumption([np.array([1.0, np.nan])], t_stop=10.0)
    with pytest.raises(ValueError, match="after the end"):
        atp_consumption(ds, t_stop=1000.0)  # window longer than the recording
    with pytest.raises(ValueError, match="t_stop"):
        atp_consumption([[1.0]])  # arrays need the end of the recording
    with pytest.raises(ValueError, match="release_probability"):
        atp_consumption(ds, release_probability=1.5)
    with pytest.raises(ValueError, match="atp_per_spike"):
        atp_consumption(ds, atp_per_spike=-1.0)
    with pytest.raises(TypeError, match="resting_atp_per_s"):
        atp_consumption(ds, resting_atp_per_s="a lot")
    with pytest.raises(ValueError, match="method"):
        atp_consumption(ds, method="glucose")
    with pytest.raises(ValueError, match="n_synapses_per_spike"):
        atp_consumption(ds, n_synapses_per_spike=[1.0, 2.0])
    with pytest.raises(TypeError, match="Network"):
        atp_consumption(ds, network="net")


# -- Hodgkin-Huxley Na+ ------------------------------------------------------------------
def hh_rates(v):
    """hh1952 rates (1/ms) in the modern convention (Dayan & Abbott 2001, eq. 5.22-5.24)."""
    am = 0.1 * (v + 40) / (1 - np.exp(-(v + 40) / 10))
    bm = 4 * np.exp(-(v + 65) / 18)
    ah = 0.07 * np.exp(-(v + 65) / 20)
    bh = 1 / (1 + np.exp(-(v + 35) / 10))
    an = 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10))
    bn = 0.125 * np.exp(-(v + 65) / 80)
    return am, bm, ah, bh, an, bn


def scipy_na_charge(v0, pulse_density, onset, width, t_end):
    """Na+ charge density (nC/cm2) entering a squid HH membrane in (0, t_end] (ODE solve)."""
    am, bm, ah, bh, an, bn = hh_rates(v0)
    y0 = [v0, am / (am + bm), ah / (ah + bh), an / (an + bn), 0.0]

    def f(t, y):
        v, m, h, n, _ = y
        am, bm, ah, bh, an, bn = hh_rates(v)
        j = pulse_density if onset <= t < onset + width else 0.0
        i_na = 120.0 * m**3 * h * (v - 50.0)
        i_k = 36.0 * n**4 * (v + 77.0)
        i_l = 0.3 * (v + 54.387)
        return [-i_na - i_k - i_l + j, am * (1 - m) - bm * m, ah * (1 - h) - bh * h,
                an * (1 - n) - bn * n, -i_na]

    sol = solve_ivp(f, (0.0, t_end), y0, method="LSODA", rtol=1e-10, atol=1e-12,
                    max_step=0.02)
    return sol.y[4, -1]


def test_hh_sodium_charge_of_one_spike_matches_an_ode_solution():
    pop = HodgkinHuxleyNeuron.create_squid_axon()
    density, onset, width, t_end = 20.0, 5.0, 1.0, 40.0  # one spike from a 1 ms pulse
    stim = StepCurrent(pop.density_to_current(density), onset_ms=onset, duration_ms=width)
    ds = pop.simulate(t_end, stim, dt=0.005, record=("V", "m", "h"), seed=0)
    assert ds.sizes["spike"] == 1
    na = hh_sodium_atp(ds)
    area_cm2 = pop.params.area_um2 * 1e-8
    ref_pC = scipy_na_charge(float(pop.resting_potential()[0]), density, onset, width,
                             t_end) * area_cm2 * 1e3  # nC/cm2 * cm2 -> nC -> pC
    # the engine's staggered exponential-Euler scheme is second order; at dt = 0.005 ms
    # the charge (dominated by the spike's 1-2 ms) agrees to ~0.1 % (measured 0.12 %);
    # the rectangle-rule integral of the samples adds O(dt) = 0.01 % at a smooth end
    assert float(na.na_charge[0]) == pytest.approx(ref_pC, rel=5e-3)
    ions = ref_pC * 1e-12 / ELEMENTARY_CHARGE_C
    assert float(na.na_ions[0]) == pytest.approx(ions, rel=5e-3)
    assert float(na.atp[0]) == pytest.approx(ions / 3.0, rel=5e-3)  # 3 Na+ per ATP
    assert int(na.spike_count[0]) == 1
    assert na.na_charge.attrs["units"] == "pC" and na.atp_rate.attrs["units"] == "ATP/s"


@pytest.mark.parametrize("temperature, low, high", [(18.0, 3.0, 5.0), (6.3, 8.0, 16.0)])
def test_hh_sodium_entry_ratio_over_the_minimum_charge(temperature, low, high):
    pop = HodgkinHuxleyNeuron.create_squid_axon(temperature_C=temperature)
    # repetitive firing at 20 uA/cm2 DC, the drive of Yu et al. (2012), Fig. 5A
    ds = pop.simulate(250.0, current_density=20.0, dt=0.01, record=("V", "m", "h"), seed=0)
    t0, t1 = float(ds.spike_time[2]), float(ds.spike_time[-1])  # whole cycles
    na = hh_sodium_atp(ds, t_start=t0, t_stop=t1)
    q_per_spike = float(na.na_charge[0]) / int(na.spike_count[0])  # pC
    v = ds.V.sel(time=slice(t0, t1)).values[:, 0]
    c_m_nF = pop.params.C_m * pop.params.area_um2 * 1e-8 * 1e3  # uF/cm2 * cm2 -> nF
    q_min = c_m_nF * (v.max() - v.min())  # nF * mV = pC, the capacitive minimum
    ratio = q_per_spike / q_min
    # ~4 at 18 degC (Yu et al. 2012; Carter & Bean 2009); measured 3.9 here. At 6.3 degC
    # the slow gates overlap far more (measured 11): the published trend with temperature
    assert low < ratio < high, ratio


def test_atp_consumption_sodium_method_uses_the_model_na_entry():
    pop = HodgkinHuxleyNeuron.create_squid_axon(n=2)
    ds = pop.simulate(60.0, current_density=[0.0, 10.0], dt=0.01, record=("V", "m", "h"),
                      seed=0)
    na = hh_sodium_atp(ds)
    e = atp_consumption(ds, method="sodium", n_synapses_per_spike=0)
    assert e.category.values.tolist() == ["sodium_current", "synaptic"]
    np.testing.assert_allclose(e.atp.sel(category="sodium_current"), na.atp)
    assert float(na.atp[1]) > 5 * float(na.atp[0]) > 0  # spiking >> resting Na+ leak


def test_hh_sodium_edge_cases(tmp_path):
    pop = HodgkinHuxleyNeuron.create_squid_axon()
    ds = pop.simulate(20.0, 0.0, dt=0.01, record=("V", "m", "h"), seed=0)  # no spike
    na = hh_sodium_atp(ds)
    # at rest only the steady window current flows: g m_inf^3 h_inf (E_Na - V_rest)
    kin = pop.gate_kinetics(pop.resting_potential())
    v_rest = float(pop.resting_potential()[0])
    j = 120.0 * kin["m_inf"][0] ** 3 * kin["h_inf"][0] * (50.0 - v_rest)  # uA/cm2
    q = j * 20.0 * pop.params.area_um2 * 1e-8 * 1e3  # nA * ms = pC
    assert float(na.na_charge[0]) == pytest.approx(q, rel=1e-6)
    assert int(na.spike_count[0]) == 0
    path = tmp_path / "na.nc"
    na.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_identical(back.load(), na)
    with pytest.raises(ValueError, match="record"):
        hh_sodium_atp(ds.drop_vars("m"))
    bad = ds.copy(deep=True)
    bad["V"][5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        hh_sodium_atp(bad)
    with pytest.raises(ValueError, match="after the end"):
        hh_sodium_atp(ds, t_stop=50.0)  # window longer than the recording
    with pytest.raises(ValueError, match="fewer than two"):
        hh_sodium_atp(ds, t_start=19.995, t_stop=20.0)
    lif = LIFNeuron.create_excitatory().simulate(10.0, 0.0, seed=0, record=("V",))
    with pytest.raises(ValueError, match="lacks"):
        hh_sodium_atp(lif)
    with pytest.raises(TypeError, match="Dataset"):
        hh_sodium_atp(np.zeros((10, 3)))

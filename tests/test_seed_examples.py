"""The NeuroSim document's single-neuron examples, run as written (neurosim -> neurosim_nb)."""

import xarray as xr

from neurosim_nb import validate_dataset


def test_lif_example():
    from neurosim_nb import LIFNeuron
    from neurosim_nb.core.neurons.lif import LIFParameters

    # Custom parameters
    params = LIFParameters(
        tau_m=20.0,        # Membrane time constant (ms)
        V_rest=-65.0,      # Resting potential (mV)
        V_threshold=-50.0, # Spike threshold (mV)
        t_refractory=2.0,  # Refractory period (ms)
    )
    neuron = LIFNeuron(params)

    # Pre-configured types
    exc_neuron = LIFNeuron.create_excitatory()
    inh_neuron = LIFNeuron.create_inhibitory()
    for n in (neuron, exc_neuron, inh_neuron):
        ds = n.simulate(100.0, 1.0)
        assert isinstance(ds, xr.Dataset)
        validate_dataset(ds)


def test_izhikevich_example():
    from neurosim_nb import IzhikevichNeuron
    from neurosim_nb.core.neurons.izhikevich import IzhikevichType

    # Different firing patterns
    rs_neuron = IzhikevichNeuron.from_preset(IzhikevichType.RS)   # Regular spiking
    fs_neuron = IzhikevichNeuron.from_preset(IzhikevichType.FS)   # Fast spiking
    ib_neuron = IzhikevichNeuron.from_preset(IzhikevichType.IB)   # Intrinsically bursting
    ch_neuron = IzhikevichNeuron.from_preset(IzhikevichType.CH)   # Chattering
    for n in (rs_neuron, fs_neuron, ib_neuron, ch_neuron):
        ds = n.simulate(200.0, 10.0)
        validate_dataset(ds)
        assert ds.sizes["spike"] > 0  # the published step (I = 10) makes every type fire


def test_hodgkin_huxley_example():
    from neurosim_nb import HodgkinHuxleyNeuron

    # Classic squid axon parameters
    neuron = HodgkinHuxleyNeuron.create_squid_axon()
    ds = neuron.simulate(100.0, current_density=10.0)
    validate_dataset(ds)
    assert ds.sizes["spike"] > 0

    # Mammalian parameters (37°C)
    neuron = HodgkinHuxleyNeuron.create_mammalian()
    validate_dataset(neuron.simulate(100.0, neuron.demo_current("mammalian")))


def test_adex_and_adaptive_lif_from_the_feature_list():
    from neurosim_nb import AdaptiveLIFNeuron, AdExNeuron

    for cls in (AdExNeuron, AdaptiveLIFNeuron):
        for preset in cls.presets():
            n = cls.from_preset(preset)
            validate_dataset(n.simulate(100.0, cls.demo_current(preset)))


def test_stdp_synapses_example():
    """The seed's "STDP Synapses" block with neuron objects (it raised RuntimeError before:
    a reward before the synapse is in a network has no eligibility to act on, so it changes
    nothing); then the same synapse in a network learns from a reward."""
    import numpy as np

    from neurosim_nb import LIFNeuron, LIFParameters, Network
    from neurosim_nb.stimuli import PoissonInput

    driver = LIFParameters(tau_m=1.0, V_reset=-70.0, t_refractory=0.0)
    pre, post = LIFNeuron(driver, n=5), LIFNeuron(driver, n=5)

    from neurosim_nb.core.synapses import STDPSynapse

    # Classic Hebbian STDP
    synapse = STDPSynapse.create_hebbian(pre, post)

    # Reward-modulated STDP
    synapse = STDPSynapse.create_reward_modulated(pre, post)

    # Apply reward signal
    synapse.apply_reward(reward=1.0)

    # test: nothing has paired yet; in a network the pairings of a run are rewarded
    assert synapse.projection is None
    net = Network(seed=0)
    net.add_population("pre", pre)
    net.add_population("post", post)
    proj = net.add(synapse)
    kick = PoissonInput(rate_hz=50.0, weight_mV=100.0)
    net.simulate(200.0, seed=0, record=(), stimuli={"pre": kick, "post": kick})
    np.testing.assert_array_equal(proj.weight, 0.005)
    e = synapse.eligibility()
    synapse.apply_reward(reward=1.0)
    np.testing.assert_allclose(proj.weight, np.clip(0.005 + e, 0.0, 0.01), rtol=1e-12)
    assert np.any(e != 0)

"""The NeuroSim document's network examples, run as written (``neurosim`` -> ``neurosim_nb``).

Each block is copied from the seed; what follows a block (marked "test:") drives or checks
it. Deviations, and why:

* ONI Framework Integration: the block runs as written up to ``engine.run()``; the export
  lines are left out (``neurosim_nb.export`` is another module's work). As written the
  block applies no input, and the ONI model has no spontaneous drive, so the run is silent
  by design (ONI.md: without input nothing fires); the same network with input to layer 1
  makes all 14 layers fire.
* Network Types blocks only build networks; the test then runs each for 500-1000 ms. The
  balanced networks carry their own Poisson drive and run without any added input; the
  layered and small-world ones get the Quick Start's input (5 nA into the first 10
  neurons).
"""

from __future__ import annotations

import numpy as np

from neurosim_nb.core.networks.layered import layer_rates


def _run(network, duration=500.0, first_ten=True, seed=0):
    from neurosim_nb.engine import RecordingConfig, SimulationConfig, SimulationEngine

    engine = SimulationEngine(network, SimulationConfig(duration=duration, seed=seed,
                                                        verbose=False),
                              RecordingConfig(variables=[]))
    if first_ten:
        for nid in list(network.neurons.keys())[:10]:
            engine.add_input_current(nid, 5.0)
    return engine.run()


def test_quick_start():
    from neurosim_nb import LayeredNetwork, LIFNeuron  # noqa: F401  (as in the seed)
    from neurosim_nb.engine import SimulationConfig, SimulationEngine

    # Create a layered network
    network = LayeredNetwork.create_simple(
        n_layers=3,
        neurons_per_layer=100
    )

    # Configure simulation
    config = SimulationConfig(
        duration=1000,  # ms
        dt=0.1,         # ms
        verbose=True
    )

    # Run simulation
    engine = SimulationEngine(network, config)

    # Add input to first layer
    for nid in list(network.neurons.keys())[:10]:
        engine.add_input_current(nid, 5.0)  # 5 nA

    result = engine.run()

    # Analyze results
    print(f"Total spikes: {result.total_spikes}")
    print(f"Mean firing rate: {result.mean_firing_rate:.2f} Hz")

    # test: the first 10 ids are layer-1 excitatory cells, and activity reaches layer 3
    assert set(np.arange(10)) <= set(network.layer(1).tolist())
    assert result.total_spikes > 0 and result.mean_firing_rate > 0
    rates = layer_rates(result.dataset)
    assert all(rates[layer] > 0 for layer in (1, 2, 3)), rates


def test_oni_framework_integration():
    from neurosim_nb import LayeredNetwork
    from neurosim_nb.engine import SimulationConfig, SimulationEngine

    # Create ONI 14-layer model network
    network = LayeredNetwork.create_oni_model(neurons_per_layer=50)

    # Run simulation
    config = SimulationConfig(duration=2000)
    engine = SimulationEngine(network, config)
    result = engine.run()

    # test: the default sensory drive to layer 1 propagates through all 14 layers
    assert network.n_neurons == 655
    rates = layer_rates(result.dataset)
    assert all(rates[layer] > 0 for layer in range(1, 15)), rates


def test_network_types_layered():
    from neurosim_nb import LayeredNetwork
    from neurosim_nb.core.networks.layered import LayeredNetworkParameters

    # Custom layered network
    params = LayeredNetworkParameters(
        n_layers=5,
        neurons_per_layer=50,
        feedforward_prob=0.3,
        lateral_connections=True,
    )
    network = LayeredNetwork(params)

    # test:
    assert network.n_neurons == 250
    rates = layer_rates(_run(network).dataset)
    assert all(rates[layer] > 0 for layer in range(1, 6)), rates

    # Pre-configured ONI model
    network = LayeredNetwork.create_oni_model()

    # test:
    assert network.n_neurons == 655
    assert _run(network).total_spikes > 0


def test_network_types_recurrent():
    from neurosim_nb import RecurrentNetwork

    # Balanced E/I network
    network = RecurrentNetwork.create_balanced(n_neurons=1000, g=4.0)

    # test: active with its own drive, no input added
    result = _run(network, duration=1000.0, first_ten=False)
    assert result.total_spikes > 0
    assert 2.0 < result.mean_firing_rate < 40.0

    # With STDP plasticity
    network = RecurrentNetwork.create_plastic(n_neurons=500, stdp_lr=0.01)

    # test:
    w0 = network.plastic_projection.weight.copy()
    assert _run(network, duration=500.0, first_ten=False).total_spikes > 0
    assert np.any(network.plastic_projection.weight != w0)


def test_network_types_small_world():
    from neurosim_nb import SmallWorldNetwork

    # Watts-Strogatz topology
    network = SmallWorldNetwork.create_watts_strogatz(
        n=500,   # neurons
        k=4,     # local neighbors
        p=0.1    # rewiring probability
    )

    # test: the driven neurons fire; the graph is small-world
    ds = _run(network).dataset
    assert ds.sizes["spike"] > 0
    assert network.compute_topology_metrics()["sigma"] > 1
    # the input spreads beyond the 10 driven neurons -- checked on a seeded build: the
    # example's is random, and in ~3 % of draws (1 in 30 here) the driven neurons' few
    # edges out of the group are all inhibitory and nothing spreads
    seeded = SmallWorldNetwork.create_watts_strogatz(n=500, k=4, p=0.1, seed=12)
    ds = _run(seeded).dataset
    assert np.any(ds.spike_neuron.values >= 10)

    # Cortical-like module
    network = SmallWorldNetwork.create_cortical_module(n_neurons=200)

    # test:
    ds = _run(network).dataset
    assert ds.sizes["spike"] > 0 and np.any(ds.spike_neuron.values >= 10)

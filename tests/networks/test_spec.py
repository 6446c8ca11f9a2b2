"""Declarative network specs: JSON round trips and one clear error per kind of mistake."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from neurosim_nb import build_network, validate_dataset
from neurosim_nb.core.networks.spec import RULE_ARGS, SpecError, validate_spec
from neurosim_nb.core.neurons import MODEL_FAMILIES
from neurosim_nb.core.neurons.izhikevich import IzhikevichNeuron
from neurosim_nb.core.synapses import connectivity
from neurosim_nb.stimuli import PoissonInput, StepCurrent

SPEC = {
    "name": "two-layer",
    "seed": 42,
    "populations": {
        "E": {"model": "LIF", "n": 80, "preset": "excitatory", "layer": 1},
        "I": {"model": "LIF", "n": 20, "preset": "inhibitory", "params": {"tau_m": 8.0},
              "layer": 1},
        "out": {"model": "Izhikevich", "n": 30, "preset": "RS", "layer": 2},
    },
    "projections": [
        {"pre": "E", "post": "E", "rule": "fixed_probability", "p": 0.1, "weight": 0.002,
         "receptor": "AMPA"},
        {"pre": "E", "post": "I", "rule": "fixed_indegree", "k": 8,
         "weight": {"dist": "lognormal", "mean": 0.002, "std": 0.001}, "delay_ms": 1.5},
        {"pre": "I", "post": "E", "rule": "fixed_outdegree", "k": 10, "weight": 0.004,
         "receptor": "GABA_A", "delay_ms": {"dist": "uniform", "low": 0.5, "high": 2.0}},
        {"pre": "E", "post": "out", "rule": "all_to_all", "weight": 0.5, "receptor": "delta",
         "name": "readout"},
    ],
    "stimuli": {"E": [{"type": "PoissonInput", "rate_hz": 2000.0, "weight_mV": 1.0},
                      {"type": "StepCurrent", "amplitude": 0.1, "onset_ms": 10.0,
                       "duration_ms": 20.0, "targets": [0, 1, 2]}]},
    "layer_names": {"1": "cortex", "2": "readout"},
}


def test_spec_builds_the_described_network():
    net = build_network(SPEC)
    assert net.name == "two-layer" and net.seed == 42
    assert [(k, p.n) for k, p in net.populations.items()] == [("E", 80), ("I", 20), ("out", 30)]
    assert net.populations["I"].params.tau_m == 8.0
    assert isinstance(net.populations["out"], IzhikevichNeuron)
    assert net.layer_of == {"E": 1, "I": 1, "out": 2}
    assert net.layer_names == {1: "cortex", 2: "readout"}
    names = [p.name for p in net.projections]
    assert names == ["E->E:AMPA", "E->I:AMPA", "I->E:GABA_A", "readout"]
    ei = net.projections[1]
    assert np.all(np.bincount(ei.post_idx, minlength=20) == 8)
    assert ei.weight.std() > 0 and np.all(ei.delay_ms == 1.5)
    assert net.projections[3].n_synapses == 80 * 30
    poisson, step = net.stimuli["E"]
    assert isinstance(poisson, PoissonInput) and poisson.rate_hz == 2000.0
    assert isinstance(step, StepCurrent) and list(step.targets) == [0, 1, 2]
    ds = net.simulate(50.0, record=(), seed=0)
    validate_dataset(ds)
    assert json.loads(ds.attrs["layer_names_json"]) == {"1": "cortex", "2": "readout"}
    assert ds.sizes["spike"] > 0


def test_json_round_trip_builds_the_same_network():
    text = json.dumps(SPEC)
    a, b = build_network(SPEC), build_network(json.loads(text))
    for weighted in (True, False):
        ma = a.connectivity_matrix(weighted=weighted)
        mb = b.connectivity_matrix(weighted=weighted)
        assert (ma != mb).nnz == 0
    for pa, pb in zip(a.projections, b.projections, strict=True):
        np.testing.assert_array_equal(pa.delay_ms, pb.delay_ms)
    assert [p.params for p in a.populations.values()] == [p.params for p in
                                                          b.populations.values()]
    other = copy.deepcopy(SPEC)
    other["seed"] = 43
    assert (build_network(other).connectivity_matrix() != a.connectivity_matrix()).nnz > 0


def test_every_model_family_and_rule_is_accepted():
    assert set(RULE_ARGS) == set(connectivity.RULES)
    pops = {f"p{i}": {"model": m, "n": 2} for i, m in enumerate(MODEL_FAMILIES)}
    net = build_network({"populations": pops, "seed": 0})
    assert net.n_neurons == 2 * len(MODEL_FAMILIES)
    xy = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]
    spec = {"seed": 1, "populations": {"A": {"model": "LIF", "n": 3}},
            "projections": [{"pre": "A", "post": "A", "rule": "distance",
                             "positions_pre": xy, "sigma_um": 20.0, "p_max": 1.0,
                             "weight": 0.001},
                            {"pre": "A", "post": "A", "rule": "one_to_one", "weight": 0.001,
                             "autapses": True}]}
    net = build_network(spec)
    assert net.projections[0].n_synapses <= 6 and net.projections[1].n_synapses == 3


def _mutated(path, value):
    spec = copy.deepcopy(SPEC)
    node = spec
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return spec


_DELETE = object()

BAD = [
    (("projection",), [], r"^projection: unknown key.*Did you mean 'projections'"),
    (("seed",), -1, r"^seed: "),
    (("seed",), "42", r"^seed: '42' must be an integer"),
    (("name",), 3, r"^name: "),
    (("populations",), {}, r"^populations: define at least one"),
    (("populations", "E", "model"), "LIFF", r"^populations\.E\.model: unknown model 'LIFF'"),
    (("populations", "E", "n"), "80", r"^populations\.E\.n: '80' must be an integer"),
    (("populations", "E", "n"), 0, r"^populations\.E\.n: 0 must be an integer >= 1"),
    (("populations", "E", "n"), _DELETE, r"^populations\.E\.n: required key is missing"),
    (("populations", "E", "preset"), "pyramidal", r"^populations\.E\.preset: unknown LIF"),
    (("populations", "E", "size"), 3, r"^populations\.E\.size: unknown key"),
    (("populations", "E", "layer"), "one", r"^populations\.E\.layer: "),
    (("populations", "I", "params", "tau_x"), 1.0,
     r"^populations\.I\.params\.tau_x: LIFParameters has no parameter 'tau_x'.*'tau_m'"),
    (("populations", "I", "params", "tau_m"), -5.0, r"^populations\.I\.params: .*tau_m"),
    (("populations", "I", "params"), [1], r"^populations\.I\.params: expected a mapping"),
    (("projections",), {"pre": "E"}, r"^projections: expected a list"),
    (("projections", 1, "rule"), "fixed_in_degree",
     r"^projections\[1\]\.rule: unknown connection rule.*'fixed_indegree'"),
    (("projections", 0, "pre"), "X", r"^projections\[0\]\.pre: unknown population 'X'"),
    (("projections", 2, "post"), "e", r"^projections\[2\]\.post: unknown population"),
    (("projections", 0, "p"), 1.5, r"^projections\[0\]\.p: 1.5 must be in \[0, 1\]"),
    (("projections", 0, "k"), 3, r"^projections\[0\]\.k: rule 'fixed_probability' does not"),
    (("projections", 1, "k"), _DELETE, r"^projections\[1\]\.k: rule 'fixed_indegree' needs"),
    (("projections", 1, "k"), 2.5, r"^projections\[1\]\.k: 2.5 must be an integer"),
    (("projections", 1, "k"), 500, r"^projections\[1\]: .*k = 500 exceeds"),
    (("projections", 0, "receptor"), "AMPAR", r"^projections\[0\]\.receptor: unknown"),
    (("projections", 0, "weight"), "strong", r"^projections\[0\]\.weight: 'strong' must be"),
    (("projections", 0, "weight"), _DELETE, r"^projections\[0\]\.weight: required key"),
    (("projections", 0, "weight"), -0.1, r"^projections\[0\]: conductance weights"),
    (("projections", 0, "weight"), {"dist": "gauss", "mean": 1.0, "std": 0.1},
     r"^projections\[0\]: weights: distribution 'gauss'"),
    (("projections", 0, "delay_ms"), -1.0, r"^projections\[0\]: delays must be"),
    (("projections", 0, "autapses"), "no", r"^projections\[0\]\.autapses: "),
    (("projections", 0, "weights"), 1.0, r"^projections\[0\]\.weights: unknown key.*'weight'"),
    (("projections", 0), "E->E", r"^projections\[0\]: expected a mapping"),
    (("stimuli", "X"), [], r"^stimuli\.X: unknown population"),
    (("stimuli", "E"), {"type": "PoissonInput"}, r"^stimuli\.E: expected a list"),
    (("stimuli", "E", 0, "type"), "Poisson",
     r"^stimuli\.E\[0\]\.type: unknown stimulus type 'Poisson'.*'PoissonInput'"),
    (("stimuli", "E", 0, "type"), _DELETE, r"^stimuli\.E\[0\]\.type: required key"),
    (("stimuli", "E", 0, "rate"), 5.0, r"^stimuli\.E\[0\]\.rate: unknown key.*'rate_hz'"),
    (("stimuli", "E", 0, "rate_hz"), -5.0,
     r"^stimuli\.E\[0\]: PoissonInput.rate_hz must be a finite number >= 0 \(Hz\), got -5.0"),
    (("stimuli", "E", 0, "rate_hz"), "fast", r"^stimuli\.E\[0\]\.rate_hz: 'fast' must be"),
    (("stimuli", "E", 1, "targets"), [0, 500],
     r"^stimuli\.E\[1\]\.targets\[1\]: 500 is out of range for a population of 80"),
    (("stimuli", "E", 1, "targets"), 3, r"^stimuli\.E\[1\]\.targets: must be a list"),
    (("layer_names", "x"), "cortex", r"^layer_names\.x: keys must be layer numbers"),
]


@pytest.mark.parametrize("path, value, match", BAD,
                         ids=[".".join(map(str, b[0])) + "=" + repr(b[1])[:20] for b in BAD])
def test_bad_specs_name_the_key_path(path, value, match):
    with pytest.raises(SpecError, match=match):
        build_network(_mutated(path, value))


def test_validate_spec_fills_defaults():
    norm = validate_spec({"populations": {"A": {"model": "LIF", "n": 2}},
                          "projections": [{"pre": "A", "post": "A", "rule": "all_to_all",
                                           "weight": 0.001}]})
    assert (norm["name"], norm["seed"]) == ("network", None)
    proj = norm["projections"][0]
    assert (proj["delay_ms"], proj["receptor"], proj["autapses"]) == (1.0, "AMPA", False)


def test_spec_error_is_a_value_error():
    assert issubclass(SpecError, ValueError)
    with pytest.raises(ValueError, match="^spec: expected a mapping"):
        build_network([("populations", {})])

"""Issue 20, fuzzing the model objects: every parameter class, population family, stimulus
and spike source built from generated arguments either constructs a valid object or
raises one of the package's typed errors (:class:`~neurosim_nb.errors.NeurosimError`) --
never a raw ``TypeError``/``ValueError``/``OverflowError`` from NumPy or the standard
library.

* Parameter classes are discovered: every subclass of ``ParameterSet`` defined in a
  module of ``neurosim_nb`` (all modules are imported). Values inside each field's
  declared bounds construct (or fail a documented cross-field rule, an
  ``InvalidArgumentError``) and round-trip through ``to_dict`` and ``to_json``; values
  outside them, NaN, infinities, bools, strings, ``None``, 2-D or mismatched per-neuron
  arrays raise an error naming ``Class.field``.
* Stimuli and sources get arbitrary values for every argument; a stimulus that
  constructs gives a finite waveform on a short grid (bound to 3 neurons at dt = 0.1 ms),
  a source a schedule inside the run.

No kernel is compiled per example: constructors only, plus NumPy waveforms and the
(compiled once) Poisson draws and schedule. ``NEUROSIM_NB_FUZZ_EXAMPLES`` sets the number
of examples per test (default 300).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import pkgutil
import sys
from unittest import mock

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

import neurosim_nb
from neurosim_nb._validation import MEMORY_LIMIT_ENV
from neurosim_nb.core.neurons.base import NeuronPopulation
from neurosim_nb.core.neurons.sources import (
    InhomogeneousPoissonSource,
    PoissonSource,
    RepeatedPatternSource,
    SpikeSource,
    SpikeTimesSource,
)
from neurosim_nb.errors import (
    ArgumentTypeError,
    InvalidArgumentError,
    NeurosimError,
    TooLargeError,
)
from neurosim_nb.params import ParameterSet
from neurosim_nb.stimuli import (
    ConstantCurrent,
    OUNoise,
    PoissonInput,
    PulseTrain,
    RampCurrent,
    SineCurrent,
    StepCurrent,
    Waveform,
)

#: the suite's hypothesis profile (root conftest.py: NEUROSIM_NB_FUZZ_EXAMPLES examples)
FUZZ = settings()


def _import_all() -> None:
    for info in pkgutil.walk_packages(neurosim_nb.__path__, "neurosim_nb."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            importlib.import_module(info.name)


def _subclasses(cls) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _public(cls) -> bool:
    """Defined in a neurosim_nb module under its own name (not a test's or a doctest's)."""
    module = sys.modules.get(cls.__module__)
    return (cls.__module__.startswith("neurosim_nb.") and module is not None
            and getattr(module, cls.__name__, None) is cls)


_import_all()
PARAMETER_CLASSES = sorted((c for c in set(_subclasses(ParameterSet)) if _public(c)),
                           key=lambda c: f"{c.__module__}.{c.__qualname__}")
POPULATION_CLASSES = sorted(
    (c for c in set(_subclasses(NeuronPopulation)) if _public(c)
     and not issubclass(c, SpikeSource) and "parameters_class" in vars(c)
     and c.__module__.startswith("neurosim_nb.core.neurons")),
    key=lambda c: c.__name__)


def test_discovery_finds_the_families():
    # a guard against an empty parametrisation: the classes the docs list must be found
    names = {c.__name__ for c in PARAMETER_CLASSES}
    assert {"LIFParameters", "IzhikevichParameters", "HodgkinHuxleyParameters",
            "AdExParameters", "STDPParameters", "STPParameters"} <= names
    assert {"LIFNeuron", "IzhikevichNeuron", "HodgkinHuxleyNeuron",
            "AdExNeuron"} <= {c.__name__ for c in POPULATION_CLASSES}


# -- strategies -------------------------------------------------------------------------------
def _number_fields(cls) -> dict[str, dict]:
    return {k: v for k, v in cls.field_info().items() if v["choices"] is None}


def _in_bounds(meta) -> st.SearchStrategy[float]:
    lo, hi = meta["bounds"] if meta["bounds"] is not None else (-1e6, 1e6)
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def valid_changes(draw, cls) -> dict:
    """Some fields changed to values inside their bounds: scalars, or per-neuron arrays of
    one common length."""
    info = cls.field_info()
    names = draw(st.lists(st.sampled_from(sorted(info)), unique=True, max_size=4))
    length = draw(st.integers(1, 4))
    out = {}
    for name in names:
        meta = info[name]
        if meta["choices"] is not None:
            out[name] = draw(st.sampled_from(meta["choices"]))
        elif draw(st.booleans()):
            out[name] = draw(_in_bounds(meta))
        else:
            out[name] = np.array(draw(st.lists(_in_bounds(meta), min_size=length,
                                               max_size=length)))
    return out


def _outside(meta) -> st.SearchStrategy:
    lo, hi = meta["bounds"] if meta["bounds"] is not None else (None, None)
    options = []
    if lo is not None and lo > -1e300:
        options.append(st.floats(max_value=lo, exclude_max=True, allow_nan=False,
                                 allow_infinity=False, min_value=lo - 1e6 * (1 + abs(lo))))
    if hi is not None and hi < 1e300:
        options.append(st.floats(min_value=hi, exclude_min=True, allow_nan=False,
                                 allow_infinity=False, max_value=hi + 1e6 * (1 + abs(hi))))
    return st.one_of(options) if options else st.just(math.nan)


NOT_NUMBERS = st.one_of(
    st.booleans(), st.just(np.bool_(True)), st.text(max_size=4), st.binary(max_size=3),
    st.builds(complex, st.floats(-10, 10), st.floats(0.5, 10)),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.lists(st.text(max_size=2), min_size=1, max_size=3),
    st.lists(st.booleans(), min_size=1, max_size=3),
    st.just(object()), st.just(np.array(["1.0"])),
)
NOT_FINITE = st.one_of(st.just(math.nan), st.just(math.inf), st.just(-math.inf),
                       st.just(10**400), st.just([1.0, math.nan]))
BAD_SHAPES = st.one_of(st.just(np.ones((2, 2))), st.just([]), st.just(np.zeros((1, 0))),
                       st.just([[1.0], [2.0, 3.0]]))


@st.composite
def one_bad_field(draw, cls):
    """One field set to a value it must refuse, and the error types allowed."""
    info = cls.field_info()
    name = draw(st.sampled_from(sorted(info)))
    meta = info[name]
    if meta["choices"] is not None:
        value = draw(st.one_of(st.text(max_size=6).filter(lambda s: s not in meta["choices"]),
                               NOT_NUMBERS, st.floats()))
        return name, value
    kind = draw(st.sampled_from(["outside", "type", "finite", "shape", "none"]))
    if kind == "none" and meta["optional"]:
        kind = "type"
    value = {"outside": lambda: draw(_outside(meta)),
             "type": lambda: draw(NOT_NUMBERS),
             "finite": lambda: draw(NOT_FINITE),
             "shape": lambda: draw(BAD_SHAPES),
             "none": lambda: None}[kind]()
    if draw(st.booleans()) and kind == "outside":  # inside a per-neuron array
        inside = draw(_in_bounds(meta))
        value = np.array([inside, value])
    return name, value


def _roundtrip(cls, p) -> None:
    assert cls(**p.to_dict()) == p
    payload = json.loads(p.to_json())
    assert payload["class"] == cls.__name__
    assert cls(**payload["values"]) == p


# -- parameter classes ------------------------------------------------------------------------
@pytest.mark.parametrize("cls", PARAMETER_CLASSES, ids=lambda c: c.__name__)
def test_defaults_construct_and_round_trip(cls):
    _roundtrip(cls, cls())


FIELD_CHECKS = ("is not a number", "outside the allowed range", "must be a finite",
                "must not be None", "per-neuron arrays differ", "1-D per-neuron",
                "empty array", "is not one of")


CLASSES = st.sampled_from(PARAMETER_CLASSES)


@FUZZ
@given(data=st.data())
def test_values_inside_the_bounds_construct_and_round_trip(data):
    cls = data.draw(CLASSES)
    changes = data.draw(valid_changes(cls))
    try:
        p = cls(**changes)
        event("built")
    except ArgumentTypeError as err:
        # a class whose fields are not per-neuron (an experiment's settings) takes no arrays
        assert "this class takes one number per field" in str(err), str(err)
        return
    except InvalidArgumentError as err:
        # only a cross-field rule of the class may refuse values inside every bound
        assert "derived from the other fields" in str(err) or not any(
            s in str(err) for s in FIELD_CHECKS), str(err)
        return
    for name, value in changes.items():
        np.testing.assert_array_equal(getattr(p, name), value)
    _roundtrip(cls, p)


@FUZZ
@given(data=st.data())
def test_values_outside_the_rules_raise_typed_errors_naming_the_field(data):
    cls = data.draw(CLASSES)
    name, value = data.draw(one_bad_field(cls))
    with pytest.raises(NeurosimError) as err:
        cls(**{name: value})
    assert isinstance(err.value, ArgumentTypeError | InvalidArgumentError)
    assert f"{cls.__name__}.{name}" in str(err.value) or (
        f"{name} has" in str(err.value)), str(err.value)


@FUZZ
@given(data=st.data())
def test_per_neuron_arrays_of_different_lengths_are_refused(data):
    cls = data.draw(CLASSES)
    numbers = sorted(_number_fields(cls))
    if len(numbers) < 2:
        return
    a, b = data.draw(st.lists(st.sampled_from(numbers), min_size=2, max_size=2, unique=True))
    la, lb = data.draw(st.lists(st.integers(1, 5), min_size=2, max_size=2, unique=True))
    info = cls.field_info()
    changes = {a: [info[a]["default"]] * la if info[a]["default"] is not None else [1.0] * la,
               b: [info[b]["default"]] * lb if info[b]["default"] is not None else [1.0] * lb}
    with pytest.raises(InvalidArgumentError):
        cls(**changes)


# -- populations ------------------------------------------------------------------------------
@FUZZ
@given(cls=st.sampled_from(POPULATION_CLASSES),
       n=st.one_of(st.integers(-5, 6), st.floats(), NOT_NUMBERS, st.none(),
                   st.integers(10**15, 10**30)),
       label=st.one_of(st.none(), st.text(max_size=5), st.integers(), st.booleans()))
def test_population_constructors_take_only_sizes_and_names(cls, n, label):
    try:
        pop = cls(n=n, label=label)
    except NeurosimError:
        return
    assert pop.n == n and pop.n >= 1 and not isinstance(n, bool | str)
    assert isinstance(pop.label, str) and pop.label.strip()
    assert pop._state.shape == (len(cls.state_variables), pop.n)


# -- stimuli ----------------------------------------------------------------------------------
ANY = st.one_of(
    st.floats(-1e3, 1e3), st.floats(), st.integers(-5, 10**4), st.none(),
    NOT_NUMBERS, NOT_FINITE, BAD_SHAPES,
    st.lists(st.floats(-10, 10), min_size=1, max_size=4),
)


def arg(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly (9 in 10) a valid value, else anything: an object of several arguments is
    then built about half the time and refused for each kind of bad argument the rest."""
    return st.integers(0, 9).flatmap(lambda k: ANY if k == 0 else valid)


AMP = arg(st.floats(-10.0, 10.0))
ONSET = arg(st.floats(0.0, 1.5))
DURATION = arg(st.one_of(st.floats(0.1, 5.0), st.just(math.inf)))
TIME = ONSET
TARGETS = arg(st.one_of(st.none(), st.lists(st.integers(0, 2), unique=True, max_size=3),
                        st.lists(st.booleans(), min_size=3, max_size=3),
                        st.lists(st.integers(-1, 4), max_size=4)))
WAVE = st.one_of(st.lists(st.floats(-5, 5), min_size=1, max_size=6),
                 st.integers(1, 3).flatmap(lambda m: st.lists(
                     st.lists(st.floats(-5, 5), min_size=m, max_size=m), min_size=1,
                     max_size=5)).map(np.array))

def _sampled(stim, n: int = 3) -> np.ndarray | None:
    """The stimulus' values on 20 steps of 0.1 ms bound to ``n`` neurons (None if the
    binding is refused for a reason the message names)."""
    try:
        rt = stim.bind(n, 0.1, np.random.default_rng(0))
    except InvalidArgumentError as err:
        assert "needed" in str(err) or "out of range" in str(err) or "mask" in str(err)
        return None
    out = np.zeros((20, n))
    t = np.arange(20) * 0.1
    if rt.active_in(t):
        rt.add(out, t)
    return out


STIMULI = {
    "ConstantCurrent": st.builds(ConstantCurrent, arg(st.one_of(
        st.floats(-10, 10), st.lists(st.floats(-10, 10), min_size=1, max_size=4))),
        onset_ms=ONSET, duration_ms=DURATION, targets=TARGETS),
    "StepCurrent": st.builds(StepCurrent, AMP, onset_ms=ONSET, duration_ms=DURATION),
    "PulseTrain": st.builds(PulseTrain, amplitude=AMP, pulse_ms=arg(st.floats(0.05, 2.0)),
                            frequency_hz=arg(st.floats(1.0, 400.0)),
                            n_pulses=arg(st.one_of(st.none(), st.integers(1, 5))),
                            onset_ms=ONSET, duration_ms=DURATION, targets=TARGETS),
    "RampCurrent": st.builds(RampCurrent, start=AMP, end=AMP,
                             duration_ms=arg(st.floats(0.1, 5.0)), onset_ms=ONSET),
    "SineCurrent": st.builds(SineCurrent, amplitude=AMP, frequency_hz=arg(st.floats(1, 1e3)),
                             offset=AMP, phase_rad=arg(st.floats(-7, 7)), onset_ms=ONSET,
                             targets=TARGETS),
    "Waveform": st.builds(Waveform, arg(WAVE), dt_ms=arg(st.floats(0.01, 1.0)),
                          onset_ms=arg(st.floats(-1.0, 1.0)), targets=TARGETS),
    "OUNoise": st.builds(OUNoise, mean=AMP, sigma=arg(st.floats(0, 5)),
                         tau_ms=arg(st.floats(0.1, 20)), onset_ms=ONSET, duration_ms=DURATION,
                         targets=TARGETS),
    "PoissonInput": st.builds(PoissonInput, rate_hz=arg(st.floats(0, 1e5)),
                              weight_mV=AMP, n_sources=arg(st.integers(1, 1000)),
                              onset_ms=ONSET, duration_ms=DURATION,
                              sampling=arg(st.sampled_from(["per_step", "gaps", "pooled"])),
                              targets=TARGETS),
}


def _built(strategy, data):
    """Draw from ``strategy``; a NeurosimError raised by the constructor is fine (the
    strategy calls it) -- anything else fails the test."""
    try:
        return data.draw(strategy)
    except NeurosimError:
        return None


@FUZZ
@given(name=st.sampled_from(sorted(STIMULI)), data=st.data())
def test_stimuli_from_random_arguments(name, data):
    stim = _built(STIMULI[name], data)
    event(f"{name}: {'refused' if stim is None else 'built'}")
    if stim is None:
        return
    if hasattr(stim, "waveform"):
        w = stim.waveform(np.arange(20) * 0.5)
        assert np.all(np.isfinite(w))
    out = _sampled(stim)
    if out is not None:
        assert np.all(np.isfinite(out))


# -- sources ----------------------------------------------------------------------------------
TIMES = arg(st.lists(st.lists(st.floats(0.01, 5.0), max_size=4), min_size=1, max_size=3))
SEED = arg(st.one_of(st.none(), st.integers(0, 2**63 - 1)))
SOURCES = {
    "PoissonSource": st.builds(PoissonSource, arg(st.integers(1, 5)),
                               rate_hz=arg(st.one_of(st.floats(0, 2e4), st.lists(
                                   st.floats(0, 2e4), min_size=1, max_size=5))),
                               seed=SEED, label=arg(st.one_of(st.none(), st.text(max_size=3)))),
    "InhomogeneousPoissonSource": st.integers(1, 3).flatmap(lambda k: st.builds(
        InhomogeneousPoissonSource, arg(st.integers(1, 4)),
        arg(st.lists(st.floats(0, 2.0), min_size=k, max_size=k, unique=True).map(sorted)),
        arg(st.lists(st.floats(0, 2e4), min_size=k, max_size=k)), seed=SEED)),
    "SpikeTimesSource": st.builds(SpikeTimesSource, TIMES),
    "RepeatedPatternSource": st.builds(RepeatedPatternSource, TIMES,
                                       arg(st.floats(0.5, 6.0)),
                                       jitter_ms=arg(st.floats(0, 1.0)),
                                       start_ms=ONSET, seed=SEED),
}


@FUZZ
@given(name=st.sampled_from(sorted(SOURCES)), data=st.data())
def test_sources_from_random_arguments(name, data):
    src = _built(SOURCES[name], data)
    event(f"{name}: {'refused' if src is None else 'built'}")
    if src is None:
        return
    assert src.n >= 1 and isinstance(src.label, str)
    try:  # under a fixed memory limit: the outcome must not depend on the machine
        with mock.patch.dict(os.environ, {MEMORY_LIMIT_ENV: "256M"}):
            src.prepare_run(dt=0.1, n_steps=20, seed=0)
    except TooLargeError as err:  # a RepeatedPatternSource whose jitter_ms asks for more
        # repetitions than the limit allows (found by the suite: jitter_ms ~ 1e8 ms made
        # 3.7e8 repetitions, 11.1 GiB), refused before np.arange makes them
        assert "repetitions" in str(err), str(err)
        return
    except InvalidArgumentError as err:  # rate * dt > 1, two spikes in one step
        assert "step" in str(err), str(err)
        return
    steps = src.scheduled_steps()
    assert len(steps) == src.n
    assert all(((k >= 0) & (k < 20)).all() and np.all(np.diff(k) > 0) for k in steps)
    assert json.loads(json.dumps(src.to_dict()))["n"] == src.n


def test_a_dataclass_stimulus_field_list_is_what_the_strategies_cover():
    # a new argument of a stimulus must get a strategy: compare with the fields
    covered = {"ConstantCurrent": {"amplitude", "onset_ms", "duration_ms", "targets"},
               "PoissonInput": {"rate_hz", "weight_mV", "n_sources", "onset_ms",
                                "duration_ms", "sampling", "targets"},
               "OUNoise": {"mean", "sigma", "tau_ms", "onset_ms", "duration_ms", "targets"},
               "Waveform": {"samples", "dt_ms", "onset_ms", "targets"}}
    for cls in (ConstantCurrent, PoissonInput, OUNoise, Waveform):
        assert {f.name for f in dataclasses.fields(cls)} == covered[cls.__name__]

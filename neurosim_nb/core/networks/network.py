"""Networks: named neuron populations joined by sparse projections.

A :class:`Network` holds populations (any neuron family, mixed) and :class:`Projection`
objects. A projection stores its synapses as CSR by presynaptic neuron with one weight
and one delay per synapse; the receptor decides what an arriving spike does (see
:mod:`neurosim_nb.core.synapses.receptors`). Nothing in the simulation loop is a Python
object per neuron or synapse.

Examples
--------
>>> from neurosim_nb import LIFNeuron
>>> net = Network(seed=1)
>>> _ = net.add_population("exc", LIFNeuron.create_excitatory(n=80))
>>> _ = net.add_population("inh", LIFNeuron.create_inhibitory(n=20))
>>> proj = net.connect("exc", "inh", rule="fixed_probability", p=0.1, weight=0.002,
...                    receptor="AMPA")
>>> net.n_neurons, proj.n_synapses > 0
(100, True)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurosim_nb._validation import check_seed, did_you_mean, is_integer
from neurosim_nb.core.neurons.base import NeuronPopulation
from neurosim_nb.core.synapses.delivery import SynapticDynamics
from neurosim_nb.core.synapses.receptors import Receptor, get_receptor
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

#: longest name of a network, population or projection (names go into result attributes,
#: coordinates and file names)
MAX_NAME_LENGTH = 200
#: the coarsest step a build-time size estimate assumes (ms): ring buffers hold
#: delay / dt slots, so a run at any dt <= this needs at least the estimate
COARSEST_DT_MS = 1.0


def check_name(what: str, name) -> str:
    """``name`` if it is a usable name: a non-empty string of at most
    :data:`MAX_NAME_LENGTH` characters without control characters (a NUL ends a string in
    NetCDF: the name would come back cut short) and without leading or trailing spaces.

    >>> check_name("Network.add_population(name=...)", "exc")
    'exc'
    >>> check_name("Network.add_population(name=...)", "")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: Network.add_population(name=...) must be a \
non-empty name, got ''
    """
    import unicodedata

    if not isinstance(name, str):
        raise ArgumentTypeError(f"{what} must be a string, got {name!r}")
    if not name or not name.strip():
        raise InvalidArgumentError(f"{what} must be a non-empty name, got {name!r}")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidArgumentError(f"{what} must have at most {MAX_NAME_LENGTH} characters, "
                                   f"got {len(name)}")
    bad = [c for c in name if unicodedata.category(c).startswith("C")]
    if bad:
        raise InvalidArgumentError(f"{what} must not contain control or unassigned "
                                   f"characters (they are cut or mangled in saved files), got "
                                   f"{name!r}")
    if name != name.strip():
        raise InvalidArgumentError(f"{what} must not begin or end with spaces, got {name!r}")
    return name


def _weight_type(weight) -> type:
    """float32 weights stay float32 (``Network(weight_precision="float32")``); anything
    else is stored as float64."""
    return np.float32 if np.asarray(weight).dtype == np.float32 else np.float64


@dataclass
class Projection:
    """Synapses from population ``pre`` to population ``post`` (CSR by presynaptic neuron).

    Stored compactly: ``indptr`` (int64, ``n_pre + 1``), ``post_idx`` (int32 while
    ``n_post < 2**31``), ``weight`` (float64, or float32 in a network with
    ``weight_precision="float32"``), ``delay_ms`` (one float when all delays are
    equal, else float64 per synapse) and, after :meth:`prepare`, ``delay_steps`` (the
    smallest unsigned integer type that holds the longest delay): 13 bytes per synapse
    with uniform delays up to 255 steps. ``pre_idx`` is rebuilt from ``indptr`` when read.
    :meth:`Network.connect` draws the synapses in this order
    (:func:`~neurosim_nb.core.synapses.connectivity.connect_csr`) and hands the arrays over
    without a copy (:meth:`from_csr`); explicit synapse lists are sorted once.

    Attributes
    ----------
    pre_idx : ndarray of int64
        Presynaptic neuron of each synapse (local index), sorted; derived from ``indptr``
        (a new array on each access).
    post_idx : ndarray of int32 or int64
        Postsynaptic neuron of each synapse (local index), sorted by pre (then post).
    weight : ndarray of float64
        Weight of each synapse in the receptor's units (µS, nA or mV).
    delay_ms : ndarray of float64
        Delay of each synapse (ms); rounded to whole steps (at least one) at run time.
        A uniform delay is stored once and expanded to a new array when read.
    """

    name: str
    pre: str
    post: str
    receptor: Receptor
    pre_idx: np.ndarray  # a property (see below); the constructor takes the raw arrays
    post_idx: np.ndarray
    weight: np.ndarray
    delay_ms: np.ndarray  # a property (see below)
    n_pre: int
    n_post: int
    dynamics: SynapticDynamics = field(default_factory=SynapticDynamics)
    indptr: np.ndarray = field(init=False, repr=False)
    delay_steps: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        post_type = np.int32 if self.n_post < 2**31 else np.int64
        pre_in = self.__dict__.pop("_pre_in")
        if isinstance(pre_in, _CSR):  # from_csr: already in CSR order, stored as given
            self.indptr = np.ascontiguousarray(pre_in.indptr, dtype=np.int64)
            self.post_idx = np.ascontiguousarray(self.post_idx, dtype=post_type)
            self.weight = np.ascontiguousarray(self.weight, dtype=_weight_type(self.weight))
            if self.post_idx.shape != self.weight.shape or self.indptr.shape != (
                    self.n_pre + 1,) or int(self.indptr[-1]) != self.weight.size:
                raise InvalidArgumentError("inconsistent CSR arrays: indptr must have n_pre + 1 "
                                 "entries ending at the number of synapses")
            self._delay_ms = _compact_delay(self.__dict__.pop("_delay_in"), self.weight.size)
            return
        pre = np.asarray(pre_in, dtype=np.int64)
        delay = np.asarray(self.__dict__.pop("_delay_in"), dtype=np.float64)
        order = np.lexsort((self.post_idx, pre))
        self.post_idx = np.ascontiguousarray(self.post_idx[order], dtype=post_type)
        self.weight = np.ascontiguousarray(self.weight[order], dtype=_weight_type(self.weight))
        delay = np.broadcast_to(delay, pre.shape)
        if delay.size and np.all(delay == delay.flat[0]):
            self._delay_ms: np.ndarray | float = float(delay.flat[0])
        else:
            self._delay_ms = np.ascontiguousarray(delay[order])
        counts = np.bincount(pre, minlength=self.n_pre)
        self.indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    @classmethod
    def from_csr(cls, name: str, pre: str, post: str, receptor: Receptor, indptr, post_idx,
                 weight, delay_ms, n_pre: int, n_post: int,
                 dynamics: SynapticDynamics | None = None) -> Projection:
        """A projection from arrays already in CSR order (by pre, then post): ``indptr``
        (``n_pre + 1``), ``post_idx`` and ``weight`` (kept without a copy when they have the
        stored dtypes) and ``delay_ms`` (a scalar or one value per synapse)."""
        return cls(name, pre, post, receptor, _CSR(indptr), post_idx, weight, delay_ms, n_pre,
                   n_post, dynamics or SynapticDynamics())

    def _get_pre_idx(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_pre, dtype=np.int64), np.diff(self.indptr))

    def _set_pre_idx(self, value) -> None:
        if "indptr" in self.__dict__:
            raise AttributeError("pre_idx is derived from indptr; build a new projection")
        self.__dict__["_pre_in"] = value

    def _get_delay_ms(self) -> np.ndarray:
        if isinstance(self._delay_ms, float):
            return np.full(self.n_synapses, self._delay_ms)
        return self._delay_ms

    def _set_delay_ms(self, value) -> None:
        if "indptr" in self.__dict__:
            raise AttributeError("delay_ms is fixed when the projection is built")
        self.__dict__["_delay_in"] = value

    @property
    def post_sorted(self) -> np.ndarray:
        """Postsynaptic index of each synapse in CSR order (the kernels' view)."""
        return self.post_idx

    @property
    def n_synapses(self) -> int:
        return int(self.weight.size)

    @property
    def nbytes(self) -> int:
        """Bytes held by the synapse arrays (``indptr``, ``post_idx``, ``weight``, delays)."""
        arrays = [self.indptr, self.post_idx, self.weight, self._delay_ms, self.delay_steps]
        return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))

    def prepare(self, dt: float) -> None:
        """Convert delays to whole steps (round half up, minimum one step), stored in the
        smallest unsigned integer type (uint8, uint16 or uint32) that holds them."""
        from neurosim_nb.core.synapses.connectivity import delay_steps

        if isinstance(self._delay_ms, float):
            steps = delay_steps(np.array([self._delay_ms]), dt)
            steps = np.full(self.n_synapses, steps[0], dtype=_step_type(int(steps[0])))
        else:
            steps = delay_steps(self._delay_ms, dt)
            steps = steps.astype(_step_type(int(steps.max(initial=0))))
        self.delay_steps = steps
        self.dynamics.bind(self, dt)

    def matrix(self, sparse: bool = True):
        """Weight matrix (rows pre, columns post); duplicate synapses summed."""
        import scipy.sparse as sp

        m = sp.csr_matrix((self.weight, (self.pre_idx, self.post_idx)),
                          shape=(self.n_pre, self.n_post))
        return m if sparse else m.toarray()


# pre_idx and delay_ms are init arguments of the dataclass but not stored as given: the
# generated __init__ assigns them through these properties, __post_init__ compacts them
Projection.pre_idx = property(Projection._get_pre_idx, Projection._set_pre_idx,
                              doc="Presynaptic neuron of each synapse (rebuilt from indptr).")
Projection.delay_ms = property(Projection._get_delay_ms, Projection._set_delay_ms,
                               doc="Delay of each synapse (ms).")


class _CSR:
    """Marks the ``pre_idx`` argument of :meth:`Projection.from_csr` as CSR row pointers."""

    __slots__ = ("indptr",)

    def __init__(self, indptr):
        self.indptr = indptr


def _compact_delay(delay, n_syn: int) -> np.ndarray | float:
    """One float when every synapse has the same delay, else a float64 array."""
    d = np.asarray(delay, dtype=np.float64)
    if d.ndim == 0:
        return float(d)
    if d.shape != (n_syn,):
        raise InvalidArgumentError(f"delay_ms has shape {d.shape}; expected a scalar or "
                                   f"({n_syn},)")
    if d.size and d.min() == d.max():
        return float(d[0])
    return np.ascontiguousarray(d)


def _step_type(max_steps: int) -> type:
    """Smallest unsigned integer type holding ``max_steps`` (signed-safe in the kernels)."""
    for t in (np.uint8, np.uint16, np.uint32):
        if max_steps <= np.iinfo(t).max:
            return t
    raise InvalidArgumentError(f"a delay of {max_steps} steps is too long (at most "
                               f"{np.iinfo(np.uint32).max}); use shorter delays or a larger dt")


@dataclass
class GapJunctions:
    """Electrical synapses between populations ``a`` and ``b`` (µS per junction).

    The current into ``a``'s neuron is ``g (V_b - V_a)`` and the reverse into ``b``
    (symmetric). With ``rectification`` = ``"a_to_b"`` current only flows when it
    depolarises ``b`` from ``a`` (V_a > V_b) -- and likewise ``"b_to_a"``.
    """

    name: str
    a: str
    b: str
    a_idx: np.ndarray
    b_idx: np.ndarray
    conductance: np.ndarray
    rectification: str | None = None

    def __post_init__(self) -> None:
        if self.rectification not in (None, "a_to_b", "b_to_a"):
            raise ValueError(f"rectification must be None, 'a_to_b' or 'b_to_a', "
                             f"got {self.rectification!r}")
        if np.any(self.conductance < 0) or not np.all(np.isfinite(self.conductance)):
            raise ValueError("gap junction conductances must be finite and >= 0 (uS)")


def _indices(what: str, value) -> np.ndarray:
    """A flat array of integer indices (int64), or a typed error naming ``what``."""
    if isinstance(value, str | bytes | dict):
        raise ArgumentTypeError(f"{what} must be integer indices, got {value!r}")
    try:
        arr = np.atleast_1d(np.asarray(value))
    except ValueError:
        raise InvalidArgumentError(f"{what} must be a flat list of indices") from None
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{what} must be integer indices, got {value!r}")
    if arr.ndim != 1:
        raise InvalidArgumentError(f"{what} must be a flat list of indices, got shape "
                                   f"{arr.shape}")
    return arr.astype(np.int64)


def _is_number(value) -> bool:
    """A real number or a 0-d numeric array (not a bool)."""
    if isinstance(value, bool | np.bool_):
        return False
    return isinstance(value, numbers.Real) or (isinstance(value, np.ndarray | np.generic)
                                               and np.ndim(value) == 0
                                               and np.issubdtype(np.asarray(value).dtype,
                                                                 np.number))


def _check_values(rec: Receptor, w: np.ndarray, d) -> None:
    """Weights finite (conductances >= 0) and delays finite and >= 0 ms."""
    if w.size and not (np.isfinite(w.min()) and np.isfinite(w.max())):  # NaN propagates
        raise InvalidArgumentError("weights must be finite")
    if rec.weight_units == "uS" and w.size and w.min() < 0:
        raise InvalidArgumentError(f"conductance weights onto {rec.name} must be >= 0 uS "
                                   f"(inhibition comes from its reversal potential "
                                   f"{rec.E_rev_mV} mV)")
    d = np.asarray(d)
    if d.size and not (np.isfinite(d.min()) and np.isfinite(d.max()) and d.min() >= 0):
        raise InvalidArgumentError("delays must be finite and >= 0 ms")


def _per_synapse(what: str, value, n_syn: int) -> np.ndarray:
    """``value`` (a number or one per synapse) as a float64 array of ``n_syn`` values, or a
    typed error naming ``what`` (no NumPy broadcast message)."""
    if isinstance(value, str | bytes | dict | bool | np.bool_):
        raise ArgumentTypeError(f"{what} must be a number or one number per synapse, got "
                                f"{value!r}")
    try:
        raw = np.asarray(value)
    except ValueError:
        raise InvalidArgumentError(f"{what} must be a flat list of numbers (got a ragged "
                                   f"list)") from None
    if raw.dtype.kind not in "iuf":
        raise ArgumentTypeError(f"{what} must be a number or one number per synapse, got "
                                f"{value!r}")
    arr = raw.astype(float)
    if arr.ndim == 0:
        return np.full(n_syn, float(arr))
    if arr.shape != (n_syn,):
        raise InvalidArgumentError(f"{what} must be a number or one value per synapse "
                                   f"({n_syn}), got shape {arr.shape}")
    return arr.copy()


class NeuronView:
    """One neuron of a network (the seed's ``network.neurons[i]``): a view, not a copy."""

    __slots__ = ("population", "index", "neuron_id")

    def __init__(self, population: NeuronPopulation, index: int, neuron_id: int):
        self.population, self.index, self.neuron_id = population, index, neuron_id

    @property
    def V(self) -> float:
        return float(self.population.get_state("V")[self.index])

    @V.setter
    def V(self, value: float) -> None:
        self.population.get_state("V")[self.index] = float(value)

    def __repr__(self) -> str:
        return (f"NeuronView(id={self.neuron_id}, population={self.population.label!r}, "
                f"index={self.index}, V={self.V:.2f} mV)")


class Network:
    """Named populations and the projections between them.

    Parameters
    ----------
    name : str
        Label stored in result attrs.
    seed : int, optional
        Seed of the generator that draws connectivity (reproducible builds); ``None``
        draws one and keeps it in ``network.seed``.
    weight_precision : {"float64", "float32"}
        Storage of the weights of fixed-weight projections (those without plasticity or
        short-term dynamics). ``"float32"`` stores 9 instead of 13 bytes per synapse
        (weights rounded to float32, relative error < 6e-8); a float64 run then uses a
        float64 copy of the weights for its duration, a ``precision="float32"`` run reads
        them directly.

    Examples
    --------
    >>> from neurosim_nb import LIFNeuron
    >>> net = Network("small", seed=1, weight_precision="float32")
    >>> _ = net.add_population("a", LIFNeuron(n=10))
    >>> net.connect("a", "a", "fixed_probability", p=0.5, weight=0.1).weight.dtype
    dtype('float32')
    """

    def __init__(self, name: str = "network", seed: int | None = None,
                 weight_precision: str = "float64"):
        if weight_precision not in ("float64", "float32"):
            raise InvalidArgumentError(f"Network(weight_precision=...) must be 'float64' or "
                                       f"'float32', got {weight_precision!r}")
        self.weight_precision = weight_precision
        self.name = check_name("Network(name=...)", name)
        self.seed = (int(np.random.SeedSequence().generate_state(1)[0]) if seed is None
                     else check_seed("Network(seed=...)", seed))
        self.rng = np.random.default_rng(self.seed)
        self.populations: dict[str, NeuronPopulation] = {}
        self.layer_of: dict[str, int] = {}
        self.projections: list[Projection] = []
        self.gap_junctions: list[GapJunctions] = []
        #: continuous couplings from one population's state to another's input current
        #: (e.g. astrocytes' slow inward current), see :meth:`add_coupling`
        self.state_couplings: list = []
        self.stimuli: dict[str, list] = {}
        #: neuromodulators (``net.add(Neuromodulator(...))``), read by plasticity during runs
        self.modulators: dict[str, Any] = {}
        #: receptor-channel state and spikes in flight carried from one run to the next
        self._carry: dict[str, tuple] = {}
        #: receptor state for the start of the next run (:meth:`set_receptor_state`)
        self._receptor_init: dict[str, dict] = {}
        #: wall time of the last :meth:`simulate` by phase
        #: (:class:`~neurosim_nb.engine.network_sim.RunTiming`; None before the first run)
        self.last_run_timing = None
        #: CPU time (s, ``time.process_time``) of the last run's step loop, the span of
        #: ``last_run_timing.loop_s`` (None before the first run)
        self.last_run_loop_cpu_s = None

    # -- building -----------------------------------------------------------------------
    def add_population(self, name: str, population: NeuronPopulation,
                       layer: int | None = None) -> NeuronPopulation:
        """Add ``population`` under ``name`` (its label becomes ``name``).

        ``name``: a non-empty string without control characters (see :func:`check_name`),
        not yet used in this network; a population object can be added once (it holds its
        own state: added twice it would be simulated twice per step). ``layer``: an integer.

        >>> from neurosim_nb import LIFNeuron
        >>> net = Network(seed=0)
        >>> pop = net.add_population("a", LIFNeuron(n=2))
        >>> net.add_population("b", pop)
        Traceback (most recent call last):
        ...
        neurosim_nb.errors.InvalidArgumentError: Network.add_population: this LIFNeuron is \
already in the network as 'a'; a population object can be added once (make another one for \
'b')
        """
        if not isinstance(population, NeuronPopulation):
            raise ArgumentTypeError(f"Network.add_population(population=...) must be a neuron "
                                    f"population, got {type(population).__name__}")
        check_name("Network.add_population(name=...)", name)
        if name in self.populations:
            raise InvalidArgumentError(f"population {name!r} already exists")
        for other, pop in self.populations.items():
            if pop is population:
                raise InvalidArgumentError(
                    f"Network.add_population: this {type(population).__name__} is already in "
                    f"the network as {other!r}; a population object can be added once (make "
                    f"another one for {name!r})")
        if layer is not None and not is_integer(layer):
            raise ArgumentTypeError(f"Network.add_population(layer=...) must be an integer, "
                                    f"got {layer!r}")
        if layer is not None and not 0 <= int(layer) < 2**63:  # the result's int64 coord
            raise InvalidArgumentError(f"Network.add_population(layer=...) must be an integer "
                                       f"in [0, 2**63 - 1] (-1 marks 'no layer' in results), "
                                       f"got {layer!r}")
        population.label = name
        self.populations[name] = population
        if layer is not None:
            self.layer_of[name] = int(layer)
        return population

    def population(self, name: str) -> NeuronPopulation:
        """The population called ``name`` (a clear error with a suggestion otherwise)."""
        if not isinstance(name, str):
            raise ArgumentTypeError(f"a population is named by a string, got {name!r}")
        if name not in self.populations:
            raise InvalidArgumentError(f"unknown population {name!r}; the network has "
                                       f"{list(self.populations)}."
                                       f"{did_you_mean(name, self.populations)}")
        return self.populations[name]

    def _name_of(self, pop) -> str:
        if isinstance(pop, str):
            self.population(pop)
            return pop
        for name, p in self.populations.items():
            if p is pop:
                return name
        if not isinstance(pop, NeuronPopulation):
            raise ArgumentTypeError(f"a population is given by its name (a string) or the "
                                    f"population object, got {pop!r}")
        raise InvalidArgumentError("that population is not part of this network; "
                                   "add_population() it")

    def connect(self, pre, post, rule: str = "fixed_probability", *, weight: Any = 1.0,
                delay_ms: Any = 1.0, receptor: str | Receptor = "AMPA", name: str | None = None,
                dynamics: SynapticDynamics | None = None, autapses: bool = False,
                **rule_args) -> Projection:
        """Connect population ``pre`` to ``post`` by a connection ``rule``.

        Parameters
        ----------
        pre, post : str or NeuronPopulation
        rule : str
            ``all_to_all``, ``one_to_one``, ``fixed_probability`` (``p``), ``fixed_indegree``
            (``k``), ``fixed_outdegree`` (``k``), ``distance`` (positions, ``sigma_um``,
            ``p_max``) -- see :func:`neurosim_nb.core.synapses.connectivity.connect`.
        weight : float, array or distribution dict
            In the receptor's units (µS conductance, nA current, mV delta). A scalar is used
            exactly. Conductances must be >= 0 (the sign comes from the reversal potential).
        delay_ms : float, array or distribution dict
            Synaptic delay (ms), >= one time step at run time.
        receptor : str or Receptor
            ``AMPA``, ``NMDA``, ``GABA_A``, ``GABA_B``, ``exp_exc``, ``exp_inh``, ``current``,
            ``delta`` or a custom :class:`Receptor`.
        dynamics : SynapticDynamics, optional
            Plasticity or short-term dynamics of this projection.
        autapses : bool
            Allow i -> i when ``pre`` and ``post`` are the same population.
        """
        from neurosim_nb.core.synapses import connectivity as cx

        pre_name, post_name = self._name_of(pre), self._name_of(post)
        rec = get_receptor(receptor)
        self._check_projection_args(name, dynamics, autapses)
        if isinstance(delay_ms, bool | np.bool_):
            raise ArgumentTypeError(f"Network.connect(delay_ms=...) must be a number (ms), an "
                                    f"array or a distribution dict, got {delay_ms!r}")
        n_pre, n_post = self.populations[pre_name].n, self.populations[post_name].n
        if _is_number(delay_ms):
            self._check_ring_buffer(post_name, rec, float(delay_ms))
        indptr, post_idx = cx.connect_csr(rule, n_pre, n_post, self.rng, autapses=autapses,
                                          same_population=pre_name == post_name, **rule_args)
        n_syn = post_idx.size
        w = self._stored_weights(cx.weights(weight, n_syn, self.rng), dynamics)
        if _is_number(delay_ms):  # a uniform delay is stored once, never per synapse
            d = float(delay_ms)
            if not np.isfinite(d):
                raise InvalidArgumentError("delay_ms contains NaN or infinite values")
        else:
            d = np.asarray(cx._draw(delay_ms, n_syn, self.rng, "delay_ms"), dtype=float)
        _check_values(rec, w, d)
        if np.size(d):
            self._check_ring_buffer(post_name, rec, float(np.max(d)))
        proj = Projection.from_csr(self._projection_name(name, pre_name, post_name, rec),
                                   pre_name, post_name, rec, indptr, post_idx, w, d, n_pre,
                                   n_post, dynamics)
        self.projections.append(proj)
        return proj

    @staticmethod
    def _check_projection_args(name, dynamics, autapses) -> None:
        if name is not None:
            check_name("projection name", name)
        if dynamics is not None and not isinstance(dynamics, SynapticDynamics):
            raise ArgumentTypeError(f"dynamics must be a SynapticDynamics (STDP, "
                                    f"TsodyksMarkram, ...) or None, got {dynamics!r}")
        if not isinstance(autapses, bool | np.bool_):
            raise ArgumentTypeError(f"autapses must be True or False, got {autapses!r}")

    def ring_buffer_bytes(self, dt: float, extra: tuple | None = None,
                          itemsize: int = 8) -> float:
        """Bytes of the receptor ring buffers a run at step ``dt`` (ms) allocates: one
        float64 slot per step of the longest delay (plus the shortest and 3), per receptor
        channel and neuron of every population that receives synapses, held twice while a
        run starts (the population's buffer and the run's flat copy). ``extra``: a
        projection being added, ``(post name, receptor, its longest delay in ms)``;
        ``itemsize``: bytes per number of the run's copy (8: float64, 4: float32).

        >>> from neurosim_nb import LIFNeuron
        >>> net = Network(seed=0)
        >>> _ = net.add_population("a", LIFNeuron(n=10))
        >>> _ = net.connect("a", "a", "all_to_all", weight=0.1, delay_ms=1.0)
        >>> net.ring_buffer_bytes(0.1)    # (10 + 10 + 3) slots x 10 neurons x 16 bytes
        3680.0
        """
        from neurosim_nb.core.synapses.connectivity import delay_steps

        receptors: dict[str, set] = {}
        delays = []
        for p in self.projections:
            if p.n_synapses:
                receptors.setdefault(p.post, set()).add(p.receptor)
                d = p._delay_ms
                delays.append((float(np.min(d)), float(np.max(d))))
        if extra is not None:
            receptors.setdefault(extra[0], set()).add(extra[1])
            delays.append((extra[2], extra[2]))
        if not delays:
            return 0.0
        lo = float(delay_steps(np.array([min(d[0] for d in delays)]), dt)[0])
        hi = float(delay_steps(np.array([max(d[1] for d in delays)]), dt)[0])
        per_slot = sum(len(r) * self.populations[k].n for k, r in receptors.items())
        return (hi + lo + 3) * per_slot * (8.0 + itemsize)

    def _check_ring_buffer(self, post_name: str, rec, delay_ms: float) -> None:
        """Refuse a delay whose ring buffers could not be allocated even at the coarsest
        step (:data:`COARSEST_DT_MS`), when the projection is made, not when it runs."""
        from neurosim_nb._validation import check_allocation

        if not np.isfinite(delay_ms) or delay_ms < 0:
            return  # refused by _check_values with its own message
        need = self.ring_buffer_bytes(COARSEST_DT_MS, (post_name, rec, delay_ms))
        check_allocation(
            f"a delay of {delay_ms:g} ms onto {post_name!r} (receptor ring buffers of "
            f"{delay_ms / COARSEST_DT_MS:.3g} steps even at dt = {COARSEST_DT_MS:g} ms)", need,
            "use shorter delays (a spike source with a later start_ms delays input without a "
            "buffer) or fewer neurons")

    def _stored_weights(self, w: np.ndarray, dynamics) -> np.ndarray:
        """``w`` (a new float64 array, stored as it is) in the network's weight precision;
        weights that plasticity or short-term dynamics change stay float64."""
        static = dynamics is None or type(dynamics).process is SynapticDynamics.process
        if self.weight_precision == "float32" and static:
            return w.astype(np.float32)
        return w

    def _projection_name(self, name, pre_name: str, post_name: str, rec: Receptor) -> str:
        name = name or f"{pre_name}->{post_name}:{rec.name}"
        if any(p.name == name for p in self.projections):
            name = f"{name}#{len(self.projections)}"
        return name

    def add_projection(self, pre, post, pre_idx, post_idx, weight, delay_ms, receptor,
                       name: str | None = None,
                       dynamics: SynapticDynamics | None = None) -> Projection:
        """Add explicit synapses (local indices) from ``pre`` to ``post``."""
        pre_name, post_name = self._name_of(pre), self._name_of(post)
        rec = get_receptor(receptor)
        self._check_projection_args(name, dynamics, False)
        n_pre, n_post = self.populations[pre_name].n, self.populations[post_name].n
        pre_idx = _indices("Network.add_projection(pre_idx=...)", pre_idx)
        post_idx = _indices("Network.add_projection(post_idx=...)", post_idx)
        n_syn = pre_idx.size
        if post_idx.size != n_syn:
            raise InvalidArgumentError(f"{n_syn} presynaptic but {post_idx.size} postsynaptic "
                                       f"indices")
        if n_syn and (pre_idx.min() < 0 or pre_idx.max() >= n_pre or post_idx.min() < 0
                      or post_idx.max() >= n_post):
            raise InvalidArgumentError(f"synapse indices out of range for {pre_name} ({n_pre}) "
                                       f"-> {post_name} ({n_post})")
        w = _per_synapse("Network.add_projection(weight=...)", weight, n_syn)
        d = _per_synapse("Network.add_projection(delay_ms=...)", delay_ms, n_syn)
        if np.ndim(delay_ms) == 0:
            d = float(d[0]) if n_syn else float(np.asarray(delay_ms, dtype=float))
        _check_values(rec, w, d)
        if np.size(d):
            self._check_ring_buffer(post_name, rec, float(np.max(d)))
        w = self._stored_weights(w, dynamics)
        name = self._projection_name(name, pre_name, post_name, rec)
        proj = Projection(name, pre_name, post_name, rec, pre_idx, post_idx, w, d, n_pre, n_post,
                          dynamics or SynapticDynamics())
        self.projections.append(proj)
        return proj

    def add_gap_junctions(self, a, b, pairs_a, pairs_b, conductance_uS: Any,
                          rectification: str | None = None,
                          name: str | None = None) -> GapJunctions:
        """Electrical synapses between neurons ``pairs_a[i]`` of ``a`` and ``pairs_b[i]`` of
        ``b`` with ``conductance_uS`` each (see :class:`GapJunctions`)."""
        a_name, b_name = self._name_of(a), self._name_of(b)
        if name is not None:
            check_name("gap junction name", name)
        ai = _indices("Network.add_gap_junctions(pairs_a=...)", pairs_a)
        bi = _indices("Network.add_gap_junctions(pairs_b=...)", pairs_b)
        if ai.shape != bi.shape:
            raise InvalidArgumentError("pairs_a and pairs_b must have the same length")
        for pop_name, idx in ((a_name, ai), (b_name, bi)):
            n = self.populations[pop_name].n
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise InvalidArgumentError(f"gap junction indices out of range for "
                                           f"{pop_name!r} (0..{n - 1})")
        g = _per_synapse("Network.add_gap_junctions(conductance_uS=...)", conductance_uS,
                         ai.size)
        gj = GapJunctions(name or f"{a_name}<->{b_name}:gap", a_name, b_name, ai, bi, g,
                          rectification)
        self.gap_junctions.append(gj)
        return gj

    def add_coupling(self, coupling):
        """Add a continuous coupling: an object with ``pre`` and ``post`` (population names)
        and ``add_currents(pre_state, i_post)``, which adds the current (the post model's
        ``current_units``) computed from the pre population's ``(n_vars, n)`` state at the
        start of a block to ``i_post`` (one value per post neuron), held over the block; an
        optional ``hold_ms`` (default one step) bounds the block. Returns the coupling."""
        for end in ("pre", "post"):
            name = getattr(coupling, end, None)
            if name not in self.populations:
                raise ValueError(f"coupling {end} {name!r} is not a population of the "
                                 f"network; it has {list(self.populations)}")
        if not callable(getattr(coupling, "add_currents", None)):
            raise TypeError(f"{type(coupling).__name__} has no add_currents(pre_state, i_post)")
        self.state_couplings.append(coupling)
        return coupling

    def add(self, spec):
        """Add a synapse specification built by a factory such as
        ``ChemicalSynapse.create_ampa(pre, post, weight)``; returns what it builds."""
        if not hasattr(spec, "build"):
            raise TypeError(f"cannot add {type(spec).__name__} to a network")
        return spec.build(self)

    def add_stimulus(self, population, stimulus) -> None:
        """Drive population ``population`` with a stimulus (targets are local indices): a
        :class:`~neurosim_nb.stimuli.Stimulus`, a list of them, or a number / one
        value per neuron (a constant current in the population's current units)."""
        from neurosim_nb.stimuli import Stimulus, as_stimuli

        name = self._name_of(population)
        what = "Network.add_stimulus(stimulus=...)"
        if isinstance(stimulus, str | bytes | dict) or stimulus is None:
            raise ArgumentTypeError(f"{what} must be a Stimulus, a list of them, a number or "
                                    f"one number per neuron, got {stimulus!r}")
        if isinstance(stimulus, list | tuple) and any(isinstance(s, Stimulus)
                                                       for s in stimulus):
            bad = [s for s in stimulus if not isinstance(s, Stimulus)]
            if bad:
                raise ArgumentTypeError(f"{what}: a list of stimuli must hold only Stimulus "
                                        f"objects, got {bad[0]!r}")
        try:
            stims = as_stimuli(stimulus)
        except (TypeError, ValueError) as err:
            raise InvalidArgumentError(f"{what}: {err}") from None
        n = self.populations[name].n
        for st in stims:
            amp = np.asarray(getattr(st, "amplitude", 0.0))
            untargeted = getattr(st, "targets", None) is None
            if amp.dtype.kind in "iuf" and amp.ndim == 1 and untargeted and amp.size != n:
                raise InvalidArgumentError(f"{what}: {amp.size} values for the {n} neurons of "
                                           f"{name!r}")
        self.stimuli.setdefault(name, []).extend(stims)

    def set_receptor_state(self, population, receptor, value) -> None:
        """Set a receptor channel's conductance (µS) or current (nA) on every neuron of
        ``population`` for the start of the next run.

        The value replaces the channel's state at the start of the next :meth:`simulate`
        (also what a previous run left; spikes in flight are kept) and is used once. The
        first step's current uses it, as a Brian2 ``NeuronGroup`` variable set before
        ``run``: a single-exponential channel then runs exactly as if an event of weight
        ``value`` had arrived at t = 0 on a channel at rest (a dual exponential starts at
        ``value`` and decays with its decay time constant, without a rise). E.g. Brian2's
        COBAHH example starts ``ge ~ N(40, 15^2) nS``, ``gi ~ N(200, 120^2) nS``.
        :meth:`reset_state` discards it.

        Parameters
        ----------
        population : str or NeuronPopulation
            The postsynaptic population.
        receptor : str or Receptor
            A ``"conductance"`` or ``"current"`` receptor of a projection onto
            ``population`` (a dual exponential gets the value in its decay component, so
            it starts at its peak).
        value : float or array_like
            µS for conductance receptors (>= 0), nA for current receptors; one number or
            one per neuron, finite.

        Raises
        ------
        ValueError
            Unknown population, a receptor no projection onto it uses, a delta or kinetic
            receptor, a value of the wrong shape, not finite, or a negative conductance.

        Examples
        --------
        >>> from neurosim_nb import LIFNeuron
        >>> net = Network("g0", seed=0)
        >>> _ = net.add_population("a", LIFNeuron(n=2))
        >>> _ = net.connect("a", "a", "all_to_all", weight=0.001, receptor="exp_exc")
        >>> net.set_receptor_state("a", "exp_exc", [0.0, 0.05])   # uS
        >>> ds = net.simulate(5.0, record=("V",), seed=0, verbose=False)
        >>> bool(ds.V.values[-1, 1] > ds.V.values[-1, 0])          # the conductance depolarises
        True
        """
        name = self._name_of(population)
        rec = get_receptor(receptor)
        onto = [p.receptor for p in self.projections if p.post == name]
        if rec not in onto:
            raise ValueError(f"no projection onto {name!r} uses receptor {rec.name!r}; its "
                             f"receptors are {sorted({r.name for r in onto})}")
        if rec.kind not in ("conductance", "current"):
            raise ValueError(f"receptor {rec.name!r} is of kind {rec.kind!r}: only "
                             f"'conductance' and 'current' receptors have a settable state")
        n = self.populations[name].n
        arr = np.asarray(value, dtype=float)
        if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != n):
            raise ValueError(f"value must be a number or one per neuron of {name!r} ({n}), "
                             f"got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"value must be finite, got {value!r}")
        if rec.kind == "conductance" and np.any(arr < 0):
            raise ValueError(f"conductances (uS) must be >= 0, got a minimum of {arr.min()}")
        self._receptor_init.setdefault(name, {})[rec] = np.broadcast_to(arr, (n,)).copy()

    def _apply_receptor_init(self, name: str, channels: dict, syn_state: np.ndarray,
                             decay: np.ndarray | None = None) -> None:
        """Write the values of :meth:`set_receptor_state` for population ``name`` into a
        run's channel state ``syn_state[channel, 0|1, neuron]`` and forget them (engine).
        ``decay[channel]`` is the fixed-step engine's one-step decay factor: its first step
        uses ``state * decay``, so the state is ``value / decay`` (the adaptive engine's
        state is the value itself: no ``decay``)."""
        for rec, value in getattr(self, "_receptor_init", {}).pop(name, {}).items():
            if rec in channels:
                c = channels[rec]
                syn_state[c, 0] = value if decay is None else value / decay[c]
                syn_state[c, 1] = 0.0

    # -- introspection ------------------------------------------------------------------
    @property
    def n_neurons(self) -> int:
        return sum(p.n for p in self.populations.values())

    def offsets(self) -> dict[str, int]:
        """Global id of each population's first neuron (populations in insertion order)."""
        out, start = {}, 0
        for name, pop in self.populations.items():
            out[name] = start
            start += pop.n
        return out

    def neuron_ids(self, population: str) -> np.ndarray:
        """Global neuron ids of ``population``."""
        start = self.offsets()[self._name_of(population)]
        return np.arange(start, start + self.populations[population].n)

    @property
    def neurons(self) -> dict[int, NeuronView]:
        """``{global id: NeuronView}`` for every neuron (the seed API)."""
        out = {}
        for name, start in self.offsets().items():
            pop = self.populations[name]
            for i in range(pop.n):
                out[start + i] = NeuronView(pop, i, start + i)
        return out

    def locate(self, neuron_ids) -> list[tuple[str, np.ndarray]]:
        """Split global ids into ``[(population, local indices), ...]``."""
        ids = np.atleast_1d(np.asarray(neuron_ids, dtype=np.int64))
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_neurons):
            raise ValueError(f"neuron ids must be in 0..{self.n_neurons - 1}")
        out = []
        for name, start in self.offsets().items():
            n = self.populations[name].n
            sel = ids[(ids >= start) & (ids < start + n)] - start
            if sel.size:
                out.append((name, sel))
        return out

    def connectivity_matrix(self, sparse: bool = True, weighted: bool = True):
        """Global (n_neurons x n_neurons) matrix, rows = pre, columns = post: summed weights
        (``weighted``) or synapse counts."""
        import scipy.sparse as sp

        off = self.offsets()
        rows, cols, vals = [], [], []
        for p in self.projections:
            rows.append(p.pre_idx + off[p.pre])
            cols.append(p.post_idx + off[p.post])
            vals.append(p.weight if weighted else np.ones(p.n_synapses))
        n = self.n_neurons
        if rows:
            m = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(n, n))
        else:
            m = sp.csr_matrix((n, n))
        return m if sparse else m.toarray()

    def reset_state(self) -> None:
        """Reset every population to its initial state; drop synaptic state and spikes in
        flight."""
        for pop in self.populations.values():
            pop.reset_state()
        for m in self.modulators.values():
            m.reset()
        self._carry.clear()
        self._receptor_init.clear()

    def simulate(self, duration: float, **kwargs):
        """Simulate the network; see :func:`neurosim_nb.engine.network_sim.simulate_network`."""
        from neurosim_nb.engine.network_sim import simulate_network

        return simulate_network(self, duration, **kwargs)

    def __repr__(self) -> str:
        pops = ", ".join(f"{k}={v.n}" for k, v in self.populations.items())
        return (f"{type(self).__name__}({self.name!r}: {pops}; {len(self.projections)} "
                f"projections, {sum(p.n_synapses for p in self.projections)} synapses)")

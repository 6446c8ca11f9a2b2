"""Struct-of-arrays neuron populations: the shared machinery of every model family.

A population holds ``n`` neurons as one float64 array per state variable (rows of
``self._state``, shape ``(n_vars, n)``) and its parameters as a :class:`ParameterSet`
whose fields are scalars or per-neuron arrays. A model family subclasses
:class:`NeuronPopulation` and provides

* ``parameters_class`` and ``state_variables`` (``{name: (units, long_name)}``; the first
  is the membrane potential ``V`` in mV),
* ``_initial_state()`` -> ``(n_vars, n)`` array,
* ``_kernel_params(dt)`` -> ``(n_params, n)`` array of what its compiled kernel needs
  (or ``(n_params, 1)`` when every neuron has the same values, for kernels that say so)
  (dt-dependent factors such as ``exp(-dt/tau)`` are computed here, once per run),
* ``compiled_kernel()`` -- the Numba function advancing a chunk of steps (the contract
  in :data:`KERNEL_DOC`). Point models get it generated from a one-neuron update
  (:mod:`~neurosim_nb.core.neurons.point_model`); LIF keeps a hand-tuned one.

The engine (:mod:`neurosim_nb.engine.simulator`) drives the kernel; nothing in the loop
is a Python object per neuron. A single neuron is a population of one, and the seed API
(``neuron.V``, ``neuron.simulate(duration, input_current)``) sits on top of the arrays.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar, NamedTuple

import numpy as np

from neurosim_nb._validation import check_allocation, check_array, check_number, is_number
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError
from neurosim_nb.params import ParameterSet

#: A state value beyond this magnitude (mV for V) means the integration diverged.
DIVERGENCE_LIMIT = 1.0e4

#: float64 arrays of ``n`` values a run needs beside the state, at least: the kernel's
#: scratch (3 rows), and for each step of a 1 ms run at the default dt of 0.1 ms the input
#: current, the kicks and the spike buffer (step and neuron index): 3 + 10 * 4
RUN_ROWS_PER_NEURON = 3 + 10 * 4


def population_bytes(n: int, n_vars: int) -> int:
    """A lower bound of the bytes a population of ``n`` neurons with ``n_vars`` state
    variables needs to be made and run for 1 ms (float64 state rows plus
    :data:`RUN_ROWS_PER_NEURON`); an exact Python int, however absurd ``n``.

    >>> population_bytes(1000, 2)
    360000
    """
    return int(n) * 8 * (n_vars + RUN_ROWS_PER_NEURON)


def check_size(owner: str, n, n_vars: int = 1) -> int:
    """``n`` (a number of neurons) as an int: an integer >= 1 (an integral float or a NumPy
    integer is fine; a bool or a string is an
    :class:`~neurosim_nb.errors.ArgumentTypeError`, NaN, infinities, fractions and
    numbers < 1 an :class:`~neurosim_nb.errors.InvalidArgumentError`) whose population
    (:func:`population_bytes`) fits in memory (else a
    :class:`~neurosim_nb.errors.TooLargeError`, raised before anything is allocated).
    ``owner`` names the population class in messages.

    >>> check_size("LIFNeuron", 3.0, 2)
    3
    >>> check_size("LIFNeuron", float("nan"))
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: LIFNeuron.n (number of neurons) must be a \
positive integer (>= 1), got nan
    """
    what = f"{owner}.n (number of neurons) must be a positive integer (>= 1), got {n!r}"
    if not is_number(n) or isinstance(n, np.bool_):
        raise ArgumentTypeError(what)
    if not isinstance(n, numbers.Integral) and not (math.isfinite(n) and float(n).is_integer()):
        raise InvalidArgumentError(what)
    n = int(n)
    if n < 1:
        raise InvalidArgumentError(what)
    check_allocation(f"{owner}(n={n}) with {n_vars} state variables",
                     population_bytes(n, n_vars),
                     "use fewer neurons (n), e.g. a sample of the population")
    return n


def check_label(owner: str, label, default: str) -> str:
    """A population's label: ``default`` for ``None``, else a non-empty string
    (:class:`~neurosim_nb.errors.ArgumentTypeError` for another type,
    :class:`~neurosim_nb.errors.InvalidArgumentError` for an empty or blank string).

    >>> check_label("LIFNeuron", None, "neurons"), check_label("LIFNeuron", "E", "neurons")
    ('neurons', 'E')
    >>> check_label("LIFNeuron", 3, "neurons")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.ArgumentTypeError: LIFNeuron.label must be a non-empty string or None, \
got 3
    """
    if label is None:
        return default
    if not isinstance(label, str):
        raise ArgumentTypeError(f"{owner}.label must be a non-empty string or None, "
                                f"got {label!r}")
    if not label.strip():
        raise InvalidArgumentError(f"{owner}.label must be a non-empty string or None, "
                                   f"got {label!r}")
    return label


def shared_columns(p: np.ndarray) -> np.ndarray:
    """Kernel parameters ``(n_params, n)`` as a C-contiguous float64 array, reduced to one
    column when every neuron has the same values (the kernels that accept it then read
    constants instead of arrays; see the kernel contract)."""
    if np.all(p == p[:, :1]):
        p = p[:, :1]
    return np.ascontiguousarray(p, dtype=np.float64)

class CompartmentLayout(NamedTuple):
    """What a population with per-compartment state declares so that the engine records it
    on ``(time, neuron, compartment)`` (:meth:`NeuronPopulation.compartment_layout`).

    ``variables``: ``{name: (rows, units, long_name)}`` -- for every recorded compartment,
    in order, the row of the population's state (``state_variables`` order) that holds
    the quantity, ``-1`` where the compartment lacks it (recorded as NaN; e.g. gates of a
    zero-area node). The names must not be those of ``state_variables``. ``coords``:
    ``{name: (dims, values, attrs)}`` along ``"compartment"`` for the recorded
    compartments; ``"compartment"`` itself (an id per compartment) is required. Every
    variable has one row entry per recorded compartment.

    >>> lay = CompartmentLayout(
    ...     {"V_compartment": (np.array([2, 3]), "mV", "membrane potential")},
    ...     {"compartment": ("compartment", np.array([0, 1]), {"long_name": "node"})})
    >>> lay.n_compartments
    2
    """

    variables: dict
    coords: dict

    @property
    def n_compartments(self) -> int:
        """The number of recorded compartments."""
        return int(np.asarray(self.coords["compartment"][1]).size)


KERNEL_DOC = """
Kernel contract (every model's ``_kernel``, compiled with ``numba.njit(cache=True)``)::

    n_spk, bad_neuron, bad_step = kernel(
        state,        # (n_vars, n) float64, advanced in place
        p,            # (n_params, n) or (n_params, 1) float64 from _kernel_params(dt)
        i_ext,        # (K, n) float64 input current of each step (model's current units)
        kick,         # (K, n) float64 instantaneous V jumps (mV), or shape (0, n) if none
        dt,           # ms
        step0,        # global index of the chunk's first step
        sample_every, # record every this many steps
        rec_idx,      # (n_rec,) int64 recorded neurons, sorted and unique
        rec_slots,    # (n_vars,) int64: row of rec_out for each state variable, -1 = not recorded
        rec_out,      # (n_out, n_samples_total, n_rec) float64
        spk_step,     # (K*n,) int64 spike buffer: global step index
        spk_idx,      # (K*n,) int64 spike buffer: neuron index
        syn_state, syn_buf, syn_par,  # receptor channels, see neurosim_nb.core.synapses.channels
        scratch,      # (3, n) float64 workspace, zero-filled by the caller (kernels are
                      # called once per step by the network loop: no allocation inside)
    )

Each kernel calls ``synaptic_step(...)`` once per step before its loop over neurons (so
channels keep decaying during refractoriness too) and adds each neuron's synaptic current to
its input current and its jump to V.

Order inside a step: apply kicks -> integrate -> detect spike, then reset and refractory
where the model has them (Hodgkin-Huxley has neither) -> record (a sample after step k is
taken at time (k + 1) * dt when (k + 1) % sample_every == 0; it is the end-of-step state,
except that a model may show the spike peak in the sample of a spiking step, as Izhikevich
does). A NaN state, or one the model cannot take as a spike beyond DIVERGENCE_LIMIT
(AdEx overshoots above V_peak are spikes), stops the chunk with ``bad_neuron >= 0``.
"""


class NeuronPopulation:
    """Base class of the neuron model families (struct-of-arrays).

    Parameters
    ----------
    params : ParameterSet, optional
        Model parameters; scalars apply to all neurons, arrays give one value per neuron.
    n : int
        Number of neurons (default 1: a single neuron); checked by :func:`check_size`
        (a population too large for the memory is refused before it is allocated).
    label : str, optional
        Population label stored in the ``population`` coordinate of results (a non-empty
        string; ``None``: the family's default).
    """

    parameters_class: ClassVar[type[ParameterSet]]
    state_variables: ClassVar[dict[str, tuple[str, str]]]
    #: unit of ``input_current`` for this model
    current_units: ClassVar[str] = "nA"
    current_long_name: ClassVar[str] = "external input current"
    default_label: ClassVar[str] = "neurons"
    #: (excitatory, inhibitory) presets used by the E/I network builders
    ei_presets: ClassVar[tuple[str, str] | None] = None
    #: the 2-D phase-plane description (:mod:`~neurosim_nb.core.neurons.planar`), if any
    planar: ClassVar = None
    #: the continuous-time equations for ``method="adaptive"``
    #: (:class:`~neurosim_nb.core.neurons.continuous.ContinuousForm`); None: fixed step only
    continuous: ClassVar = None

    def __init__(self, params: ParameterSet | None = None, n: int = 1, label: str | None = None):
        owner = type(self).__name__
        n = check_size(owner, n, len(self.state_variables))
        label = check_label(owner, label, self.default_label)
        if params is None:
            params = self.parameters_class()
        if not isinstance(params, self.parameters_class):
            raise ArgumentTypeError(f"{owner}.params must be a "
                                    f"{self.parameters_class.__name__}, got "
                                    f"{type(params).__name__}")
        self.params = params
        self.n = n
        for name in params.field_info():
            value = getattr(params, name)
            if isinstance(value, np.ndarray) and value.ndim == 1 and value.shape[0] != self.n:
                raise InvalidArgumentError(
                    f"{type(params).__name__}.{name} has {value.shape[0]} values for "
                    f"{self.n} neurons ({owner}.n = {self.n}: give one value, or {self.n})")
        self.label = label
        self.t_ms = 0.0
        self.reset_state()

    # -- state ------------------------------------------------------------------------
    def reset_state(self) -> None:
        """Return every neuron to its initial state and the clock to 0 ms."""
        self._state = np.ascontiguousarray(self._initial_state(), dtype=np.float64)
        self.t_ms = 0.0

    def _initial_state(self) -> np.ndarray:
        raise NotImplementedError

    def _kernel_params(self, dt: float) -> np.ndarray:
        raise NotImplementedError

    def compiled_kernel(self):
        """The compiled kernel that advances this population (the kernel contract of
        :data:`KERNEL_DOC`). :class:`~neurosim_nb.core.neurons.point_model.PointModel`
        generates it from the model's update; a hand-written family returns its own."""
        raise NotImplementedError(f"{type(self).__name__} has no compiled kernel")

    def compiled_kernel_for(self, shared: bool | None, inputs: bool | None = None):
        """The compiled kernel for a run in which the parameter rows are shared by all
        neurons (``shared``; False: one column per neuron; None: either) and which may
        give the population an input current (``inputs``; False: never; None: either). A
        family may leave the other cases out of it (:class:`~neurosim_nb.core.neurons.
        point_model.PointModel`); by default :meth:`compiled_kernel`."""
        return self.compiled_kernel()

    def continuous_form(self):
        """The population's :class:`~neurosim_nb.core.neurons.continuous.ContinuousForm`
        (default: the class's ``continuous``; a family with variants picks one here), or
        None when it runs with fixed steps only."""
        return type(self).continuous

    def continuous_values(self) -> dict[str, np.ndarray]:
        """The values of the form's ``rows`` per neuron (``{row: (n,) array}``); by
        default each row is the parameter of that name."""
        form = self.continuous_form()
        return {name: self.params.per_neuron(name, self.n) for name in form.rows}

    def continuous_params(self) -> np.ndarray:
        """The form's rows as the adaptive kernel reads them: ``(n_rows, n)``, or one
        column when all neurons share them."""
        form = self.continuous_form()
        values = self.continuous_values()
        missing = [r for r in form.rows if r not in values]
        if missing:
            raise ValueError(f"{type(self).__name__}.continuous_values gave no value for "
                             f"{missing}")
        rows = [np.broadcast_to(np.asarray(values[r], dtype=np.float64), (self.n,))
                for r in form.rows]
        return shared_columns(np.stack(rows))

    def compartment_layout(self) -> CompartmentLayout | None:
        """The per-compartment quantities the engine records on ``(time, neuron,
        compartment)`` and their compartment coordinates (a :class:`CompartmentLayout`),
        or ``None`` (point neurons: the default).

        >>> from neurosim_nb import LIFNeuron
        >>> LIFNeuron().compartment_layout() is None
        True
        """
        return None

    def _var_row(self, name: str) -> int:
        return list(self.state_variables).index(name)

    def get_state(self, name: str) -> np.ndarray:
        """A view of state variable ``name`` (one value per neuron)."""
        if name not in self.state_variables:
            raise KeyError(f"{type(self).__name__} has no state variable {name!r}; "
                           f"it has {list(self.state_variables)}")
        return self._state[self._var_row(name)]

    def set_state(self, name: str, value: Any) -> None:
        """Set state variable ``name`` for all neurons (scalar) or each (array)."""
        row = self.get_state(name)
        where = f"{type(self).__name__}.{name}"
        if is_number(value) and not isinstance(value, np.bool_):
            arr = np.float64(check_number(where, value))
        else:
            arr = check_array(where, value, ndims=(0, 1), length=self.n, what="one per neuron")
        row[:] = arr

    @property
    def V(self):
        """Membrane potential (mV): a float for a single neuron, else an array view."""
        v = self.get_state("V")
        return float(v[0]) if self.n == 1 else v

    @V.setter
    def V(self, value) -> None:
        self.set_state("V", value)

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, label={self.label!r}, params={self.params!r})"

    # -- simulation ---------------------------------------------------------------------
    def simulate(self, duration: float, input_current=None, **kwargs) -> Any:
        """Simulate for ``duration`` ms from the current state and return an ``xarray.Dataset``.

        Parameters
        ----------
        duration : float
            Simulated time (ms).
        input_current : float, array, Stimulus or list of Stimulus, optional
            A number (or one per neuron) is a constant current in ``self.current_units``.
        **kwargs
            ``dt`` (ms, default 0.1), ``record`` (variable names, default ``("V",)``),
            ``record_neurons``, ``sample_every``, ``seed``, ``verbose``, ``max_record_bytes``
            -- see :func:`neurosim_nb.engine.simulator.simulate`.

        Returns
        -------
        xarray.Dataset
            ``V`` (time, neuron, mV), ``spike_time``/``spike_neuron`` (spike), attrs with
            dt, duration, seed and the parameters as JSON.

        Notes
        -----
        Like Brian2, a run continues from the current state and leaves the final state in
        the population (``reset_state()`` starts over).
        """
        from neurosim_nb.engine.simulator import simulate

        return simulate(self, duration, input_current, **kwargs)

    # -- presets ----------------------------------------------------------------------
    @classmethod
    def presets(cls) -> dict[str, ParameterSet]:
        """Named parameter sets of this family (``{name: params}``); used by panels and CLI."""
        return {"default": cls.parameters_class()}

    @classmethod
    def demo_current(cls, preset: str | None = None) -> float:
        """An input current (``current_units``) that makes preset ``preset`` fire tonically;
        the starting value of the teaching apps' current slider."""
        return 1.0

    @classmethod
    def from_preset(cls, preset, n: int = 1, label: str | None = None, **overrides):
        """A population of ``n`` neurons with preset ``preset`` (name or enum member),
        optionally with some parameters changed (``overrides``)."""
        name = getattr(preset, "name", preset)
        table = cls.presets()
        if name not in table:
            raise InvalidArgumentError(f"unknown {cls.__name__} preset {preset!r}; choose from "
                                       f"{list(table)}")
        params = table[name].replace(**overrides) if overrides else table[name]
        return cls(params, n=n, label=label or str(name))

    # -- metadata -------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Model name, parameters JSON and units, for Dataset attrs."""
        return {"model": type(self).__name__, "params_json": self.params.to_json(),
                "current_units": self.current_units}

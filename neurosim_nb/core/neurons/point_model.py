r"""The point-neuron model protocol and the one step skeleton every such model runs in.

A model family is a :class:`PointModel` subclass that declares

* ``parameters_class`` -- a :class:`~neurosim_nb.params.ParameterSet` (units, bounds, docs);
* ``state_variables`` -- ``{name: (units, long_name)}``, membrane potential ``V`` first;
* ``kernel_rows`` -- the names of the values its update reads, in order; by default each
  is the parameter of that name, and :meth:`PointModel.kernel_values` may derive others
  from the parameters and ``dt`` (e.g. ``exp(-dt / tau)``), once per run;
* ``update`` -- a Numba ``@njit`` function advancing **one neuron by one step**::

      update(*state, i_in, dv, dt, *rows) -> (*new_state, event)

  ``state`` are the neuron's state variables in declaration order, ``i_in`` its input
  current of the step (external + synaptic, in ``current_units``), ``dv`` the
  instantaneous jump of V this step (kicks and delta synapses, mV; the model adds it to
  V, usually first), ``dt`` in ms, ``rows`` the neuron's ``kernel_rows`` values. The
  update also does threshold and reset; ``event`` is 1 for a spike, 0 for none and -1
  when the state is no longer finite (the run stops with a clear error);
* ``_initial_state()`` -- the ``(n_vars, n)`` starting state.

Optional: ``fast_update``, an ``@njit`` function with the update's arguments returning
``(*new_state, slow)``: a branch-free (vectorisable) step that is exact wherever it claims
to be, with ``slow`` = 1.0 for the neurons it cannot take this step -- a spike, a rare
regime, a non-finite input -- which the skeleton then gives to ``update`` (from their
unchanged state). A model whose update needs transcendental functions or a branchy spike
path (Izhikevich's exact step) thus runs at the speed of its common case. A model whose
fast update also detects spikes (no reset to branch on: Hodgkin-Huxley) sets
``fast_events = True``; its fast update then returns ``(*new_state, event, slow)``, the
event (1 spike, 0 none) of the neurons it takes, so that spiking steps need not be
handed back.
Also optional: ``spike_sample`` (a row name: the recorded V of a spiking step shows that value,
e.g. a spike peak), ``input_scale`` (a row name: the synaptic current, nA from the
receptors, is multiplied by it before it is added to the input -- for models whose input
is not in nA), ``planar`` (a :class:`~neurosim_nb.core.neurons.planar.PlanarModel` for
phase-plane analysis) and ``ei_presets``.

The skeleton -- receptor channels, kicks, the update of every neuron, spike collection,
the divergence check and recording -- is written once, as the template below; each model
gets a compiled kernel generated from it with its update inlined (cached on disk, compiled
on first use). The kernel follows the engine's kernel contract
(:data:`~neurosim_nb.core.neurons.base.KERNEL_DOC`), so the model runs alone (``simulate``)
and as a population of a :class:`~neurosim_nb.core.networks.network.Network`, with
receptors, delays and recording, without the engine knowing it.

Example: the quadratic integrate-and-fire neuron, :math:`\tau\,dV/dt = (V - V_r)(V - V_c)/
\Delta + R I`, in a few lines (forward Euler; a spike when V reaches ``V_peak``):

>>> from neurosim_nb._jit import njit
>>> from neurosim_nb.params import ParameterSet, param, parameters
>>> @parameters
... class QIFParameters(ParameterSet):
...     tau: float = param(10.0, "ms", (0.1, 100.0), "membrane time constant")
...     V_r: float = param(-65.0, "mV", (-100.0, 0.0), "rest")
...     V_c: float = param(-50.0, "mV", (-100.0, 0.0), "critical potential")
...     Delta: float = param(15.0, "mV", (0.1, 100.0), "sharpness")
...     R: float = param(10.0, "MOhm", (0.1, 1000.0), "input resistance")
...     V_peak: float = param(20.0, "mV", (0.0, 100.0), "spike cut-off")
...     V_reset: float = param(-70.0, "mV", (-100.0, 0.0), "reset")
>>> @njit
... def qif_update(v, i_in, dv, dt, tau, v_r, v_c, delta, r, v_peak, v_reset):
...     v = v + dv
...     v = v + dt / tau * ((v - v_r) * (v - v_c) / delta + r * i_in)
...     if v >= v_peak:
...         return v_reset, 1.0
...     return v, (0.0 if v == v else -1.0)
>>> class QIFNeuron(PointModel):
...     parameters_class = QIFParameters
...     state_variables = {"V": ("mV", "membrane potential")}
...     kernel_rows = ("tau", "V_r", "V_c", "Delta", "R", "V_peak", "V_reset")
...     update = qif_update
...     def _initial_state(self):
...         return self.params.per_neuron("V_r", self.n)[None, :].copy()
>>> ds = QIFNeuron(n=2).simulate(200.0, [0.0, 1.0], seed=0, verbose=False)
>>> sorted(set(ds.spike_neuron.values.tolist()))
[1]
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from neurosim_nb._codegen import import_line, importable, load_module
from neurosim_nb.core.neurons.base import NeuronPopulation, shared_columns

__all__ = ["PointModel", "point_kernel"]


class PointModel(NeuronPopulation):
    """Base class of point-neuron families built on the shared step skeleton (see the
    module docstring for the protocol)."""

    #: names of the values the update reads (after the state, i_in, dv and dt), in order
    kernel_rows: ClassVar[tuple[str, ...]] = ()
    #: the per-neuron, per-step update (a Numba @njit function)
    update: ClassVar = None
    #: row whose value the recorded V of a spiking step shows (None: the state's value)
    spike_sample: ClassVar[str | None] = None
    #: row that multiplies the synaptic current (None: the synaptic current as it is)
    input_scale: ClassVar[str | None] = None
    #: optional branch-free update (see the module docstring), or None
    fast_update: ClassVar = None
    #: whether ``fast_update`` returns the event too: ``(*new_state, event, slow)``
    fast_events: ClassVar[bool] = False

    def kernel_values(self, dt: float) -> dict[str, np.ndarray]:
        """The values of :attr:`kernel_rows` for each neuron (``{row: (n,) array}``).
        The default reads each row as the parameter of the same name; override to derive
        values from the parameters and ``dt``."""
        return {name: self.params.per_neuron(name, self.n) for name in self.kernel_rows}

    def update_function(self):
        """The update this population's kernel inlines (default: the class's ``update``;
        a family with variants, such as two kinetics, picks one here)."""
        return type(self).update

    def _kernel_params(self, dt: float) -> np.ndarray:
        values = self.kernel_values(dt)
        missing = [r for r in self.kernel_rows if r not in values]
        if missing:
            raise ValueError(f"{type(self).__name__}.kernel_values gave no value for "
                             f"{missing}")
        rows = [np.broadcast_to(np.asarray(values[r], dtype=np.float64), (self.n,))
                for r in self.kernel_rows]
        return shared_columns(np.stack(rows) if rows else np.zeros((0, self.n)))

    def compiled_kernel(self):
        """The compiled kernel of this population (generated on first use)."""
        return self.compiled_kernel_for(None)

    def compiled_kernel_for(self, shared: bool | None, inputs: bool | None = None):
        """The compiled kernel for a run in which this population's parameter rows are
        one column for all neurons (``shared=True``) or one per neuron (``False``), and
        which gives it an input current or not (``inputs=False``: no current stimulus, no
        gap junction): the skeleton's loops of the other cases are left out (an HH kernel
        with its fast update for a network without current input: one vectorised loop
        instead of four, 40 % of a first COBAHH run's compilation); ``None``: both."""
        update = self.update_function()
        if update is None:
            raise TypeError(f"{type(self).__name__} declares no update function")
        return point_kernel(update, tuple(self.state_variables), tuple(self.kernel_rows),
                            self.spike_sample, self.input_scale, self.fast_update_function(),
                            type(self).fast_events, shared, inputs)

    def fast_update_function(self):
        """The fast update this population's kernel inlines, or None (default: the class's
        ``fast_update``; it must go with :meth:`update_function`'s update)."""
        return type(self).fast_update


_KERNELS: dict = {}

_TEMPLATE = '''\
"""Generated by neurosim_nb.core.neurons.point_model from the step skeleton: the kernel of
{title}. Do not edit: edit the template (or the update)."""
import numpy as np

from neurosim_nb._jit import njit
from neurosim_nb.core.neurons._kernel_util import record_step
from neurosim_nb.core.synapses.channels import synaptic_step
{imports}

@njit({jit_args})
def kernel(state, p, i_ext, kick, dt, step0, sample_every, rec_idx, rec_slots, rec_out,
           spk_step, spk_idx, syn_state, syn_buf, syn_par, scratch):
    n = state.shape[1]
    isyn = scratch[0]  # the step's synaptic current
    flag = scratch[1]  # in: the step's V jumps; out: the neurons' events; left zero
    mark = scratch[2]  # (models with a fast update) 1 where the exact update takes over
{state_views}
    has_kick = kick.shape[0] > 0
    has_input = i_ext.shape[1] == n  # (K, 0): no external input this block
    shared = p.shape[1] == 1  # one column for all neurons: read the values once
    n_spk = 0
    for k in range(i_ext.shape[0]):
        step = step0 + k
        synaptic_step(syn_state, syn_buf, syn_par, step % syn_buf.shape[1], S0, isyn, flag)
        if has_kick:
            kick_k = kick[k]
            for i in range(n):
                flag[i] += kick_k[i]
        n_ev = 0
        if shared:
{shared_rows}
            if has_input:
                i_k = i_ext[k]
{loop_shared_input}
            else:
{loop_shared_none}
        else:
            if has_input:
                i_k = i_ext[k]
{loop_each_input}
            else:
{loop_each_none}
        if n_ev:
            for i in range(n):
                ev = flag[i]
                if ev != 0:
                    flag[i] = 0
                    if ev < 0:
                        flag[:] = 0
                        return n_spk, i, step
                    spk_step[n_spk] = step
                    spk_idx[n_spk] = i
                    n_spk += 1
        record_step(state, step, sample_every, rec_idx, rec_slots, rec_out)
{spike_sample}
    return n_spk, -1, -1
'''

#: the loops of a case the kernel was not generated for (``point_kernel(shared=...,
#: inputs=...)``)
_NOT_GENERATED = ("                raise RuntimeError('this kernel was generated for another "
                  "case (parameter sharing, input current)')")

_SPIKE_SAMPLE = '''\
        # the V sample of a spiking step shows the row {row!r} (the state keeps its value)
        if rec_slots[0] >= 0 and n_spk > first and (step + 1) % sample_every == 0:
            s = (step + 1) // sample_every - 1
            for q in range(first, n_spk):
                j = np.searchsorted(rec_idx, spk_idx[q])  # rec_idx is sorted and unique
                if j < rec_idx.shape[0] and rec_idx[j] == spk_idx[q]:
                    rec_out[rec_slots[0], s, j] = p[{index}, 0 if shared else spk_idx[q]]
'''


def _body(n_state: int, rows: list[str], i_in: str, indent: int) -> str:
    new = ", ".join(f"s{j}" for j in range(n_state))
    old = ", ".join(f"S{j}[i]" for j in range(n_state))
    call = f"{new}, ev = update({old}, {i_in}, flag[i], dt, {', '.join(rows)})" if rows \
        else f"{new}, ev = update({old}, {i_in}, flag[i], dt)"
    lines = [call] + [f"S{j}[i] = s{j}" for j in range(n_state)] + \
        ["flag[i] = ev", "n_ev += ev != 0"]
    return "\n".join(" " * indent + line for line in lines)


def _loop(n_state: int, rows: list[str], i_in: str, indent: int, fast: bool,
          events: bool = False) -> str:
    """The loop over neurons of one variant: the update of every neuron, or -- for a model
    with a fast update -- a branch-free pass of the fast update over every neuron (it
    vectorises) that leaves the state of the neurons it cannot take (``slow`` = 1: a spike,
    a rare regime) untouched, then the exact update of those neurons only. With ``events``
    the fast update returns the event of the neurons it takes as well."""
    pad = " " * indent
    if not fast:
        return f"{pad}for i in range(n):\n" + _body(n_state, rows, i_in, indent + 4)
    new = ", ".join(f"s{j}" for j in range(n_state))
    old = ", ".join(f"S{j}[i]" for j in range(n_state))
    args = f"{old}, {i_in}, flag[i], dt" + (f", {', '.join(rows)}" if rows else "")
    # (an integer count: a float sum would not vectorise without reassociation)
    result = f"{new}, fev, slow" if events else f"{new}, slow"
    lines = ["n_slow = 0", "for i in range(n):", f"    {result} = fast({args})",
             "    keep = slow > 0.0"]
    lines += [f"    S{j}[i] = S{j}[i] if keep else s{j}" for j in range(n_state)]
    # the neurons handed back are first gathered (their indices, in place in `mark`), so
    # that the exact update runs for them only: a loop over all neurons with the update
    # under an `if` would be if-converted by the vectoriser -- the exact update computed
    # for every neuron (measured: AdEx under Poisson drive 0.82 s instead of 0.36 s)
    if events:  # the events of the neurons taken, counted for the collection below
        lines += ["    flag[i] = flag[i] if keep else fev",
                  "    n_ev += 1 if (fev != 0.0) & (slow <= 0.0) else 0"]  # (no branch)
    else:
        lines += ["    flag[i] = flag[i] if keep else 0.0"]
    lines += ["    mark[i] = slow",
              "    n_slow += 1 if keep else 0", "if n_slow > 0:", "    m_slow = 0",
              "    for i in range(n):", "        if mark[i] > 0.0:",
              "            mark[m_slow] = i", "            m_slow += 1",
              "    for q in range(m_slow):", "        i = int(mark[q])"]
    out = "\n".join(pad + line for line in lines)
    return out + "\n" + _body(n_state, rows, i_in, indent + 8)


def point_kernel(update, state_names: tuple[str, ...], rows: tuple[str, ...],
                 spike_sample: str | None = None, input_scale: str | None = None,
                 fast_update=None, fast_events: bool = False, shared: bool | None = None,
                 inputs: bool | None = None):
    """The compiled kernel of the skeleton with ``update`` (and ``fast_update``, if given;
    returning the event too if ``fast_events``) inlined (generated on first use; cached on
    disk when they are importable from a file). ``shared``: only the loops for parameter
    rows shared by all neurons (True) or per neuron (False); ``inputs=False``: only the
    loops without an input current; a case left out raises if reached."""
    fast_events = bool(fast_events) and fast_update is not None
    key = (update, state_names, rows, spike_sample, input_scale, fast_update, fast_events,
           shared, inputs)
    kernel = _KERNELS.get(key)
    if kernel is not None:
        return kernel
    for name in (spike_sample, input_scale):
        if name is not None and name not in rows:
            raise ValueError(f"{name!r} is not one of the kernel rows {list(rows)}")
    n_state = len(state_names)
    if n_state < 1 or state_names[0] != "V":
        raise ValueError(f"the first state variable must be 'V', got {list(state_names)}")
    scale = "" if input_scale is None else f" * r{rows.index(input_scale)}"
    each = [f"p[{j}, i]" for j in range(len(rows))]
    common = [f"r{j}" for j in range(len(rows))]
    if input_scale is not None:
        each_scale = f" * p[{rows.index(input_scale)}, i]"
    else:
        each_scale = ""
    fast = fast_update is not None
    cacheable = importable(update) and (not fast or importable(fast_update))
    imports = import_line(update, "update") if cacheable else ""
    if fast and cacheable:
        imports += import_line(fast_update, "fast")
    src = _TEMPLATE.format(
        title=f"{getattr(update, '__qualname__', update)} (state {', '.join(state_names)})",
        imports=imports,
        jit_args='cache=True, error_model="numpy"' if cacheable else 'error_model="numpy"',
        state_views="\n".join(f"    S{j} = state[{j}]  # {nm}"
                              for j, nm in enumerate(state_names)),
        shared_rows="\n".join(f"            r{j} = p[{j}, 0]  # {nm}"
                              for j, nm in enumerate(rows)) or "            pass",
        loop_shared_input=_loop(n_state, common, f"i_k[i] + isyn[i]{scale}", 16, fast,
                                fast_events)
        if shared is not False and inputs is not False else _NOT_GENERATED,
        loop_shared_none=_loop(n_state, common, f"isyn[i]{scale}", 16, fast, fast_events)
        if shared is not False else _NOT_GENERATED,
        loop_each_input=_loop(n_state, each, f"i_k[i] + isyn[i]{each_scale}", 16, fast,
                              fast_events)
        if shared is not True and inputs is not False else _NOT_GENERATED,
        loop_each_none=_loop(n_state, each, f"isyn[i]{each_scale}", 16, fast, fast_events)
        if shared is not True else _NOT_GENERATED,
        spike_sample="" if spike_sample is None else _SPIKE_SAMPLE.format(
            row=spike_sample, index=rows.index(spike_sample)),
    )
    if spike_sample is not None:  # spikes of the step start at `first`
        src = src.replace("        n_ev = 0\n", "        n_ev = 0\n        first = n_spk\n", 1)
    stem = "kernel_" + "".join(c if c.isalnum() else "_" for c in
                               getattr(getattr(update, "py_func", update), "__name__", "u"))
    stem += {None: "", True: "_shared", False: "_each"}[shared]
    stem += "_noinput" if inputs is False else ""
    module = load_module(stem, src, {"update": update, "fast": fast_update},
                         cacheable=cacheable)
    _KERNELS[key] = module.kernel
    return module.kernel

r"""Transfer functions: the f-I curve of any neuron model and the Siegert rate of a noisy LIF.

:func:`transfer_function` measures the stationary firing rate of a model at a list of
constant input currents in **one** population run (one neuron per current value), so a
whole curve costs one vectorised simulation rather than a Python loop of runs.

:func:`siegert_rate` is the mean-first-passage rate of a leaky integrate-and-fire neuron
driven by Gaussian white noise (Siegert 1951; Amit & Tsodyks 1991; Brunel & Hakim 1999;
Brunel 2000, *J Comput Neurosci* 8:183, eq. 21),

.. math::

    \tau_m \frac{dV}{dt} = -(V - \mu) + \sigma \sqrt{\tau_m}\, \xi(t), \qquad
    \frac{1}{\nu} = \tau_{ref} + \tau_m \sqrt{\pi}
    \int_{(V_r - \mu)/\sigma}^{(\theta - \mu)/\sigma} e^{u^2} (1 + \operatorname{erf} u)\, du,

with :math:`\xi` unit white noise, :math:`\theta` the threshold and :math:`V_r` the reset.
The integrand is :math:`\operatorname{erfcx}(-u)` (scaled complementary error function),
which stays finite and accurate for the large negative :math:`u` of strong drive.

Examples
--------
>>> from neurosim_nb import LIFNeuron
>>> f = transfer_function(LIFNeuron.create_excitatory(), [0.1, 0.3, 0.5], duration_ms=500.0)
>>> f.dims, f.attrs["units"], int(f[0])
(('current',), 'Hz', 0)
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import integrate, special

from neurosim_nb.analysis._input import as_spike_trains, float_array, named, positive
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

__all__ = ["transfer_function", "siegert_rate"]


def _population(model, n: int):
    """A fresh population of ``n`` neurons of ``model`` (class, instance or parameters)."""
    from neurosim_nb.core.neurons.base import NeuronPopulation
    from neurosim_nb.core.neurons.registry import family_of_parameters
    from neurosim_nb.params import ParameterSet

    if isinstance(model, type) and issubclass(model, NeuronPopulation):
        return model(None, n=n)
    if isinstance(model, NeuronPopulation):
        per_neuron = [k for k in model.params.field_info()
                      if isinstance(getattr(model.params, k), np.ndarray)]
        if per_neuron and model.n != n:
            raise InvalidArgumentError(f"the population has per-neuron parameters {per_neuron} for "
                                       f"{model.n} neurons but {n} currents were given: pass one "
                                       "current per neuron, or a population with scalar parameters")
        return type(model)(model.params, n=n, label=model.label)
    if isinstance(model, ParameterSet):
        return family_of_parameters(model).population(model, n=n)
    raise ArgumentTypeError(
        "model must be a neuron population class (e.g. LIFNeuron), a population "
        f"or a parameter set (e.g. LIFParameters()), got {type(model).__name__}")


def transfer_function(model, currents, *, duration_ms: float = 1000.0, dt: float = 0.1,
                      transient_ms: float = 100.0, seed: int = 0) -> xr.DataArray:
    """Stationary firing rate (f-I curve) of a neuron model at constant input currents.

    One population of ``len(currents)`` neurons is simulated once, neuron ``k`` driven by
    ``currents[k]``; its rate is the number of spikes after the transient divided by
    ``duration_ms - transient_ms``.

    Parameters
    ----------
    model : NeuronPopulation class, NeuronPopulation or ParameterSet
        ``LIFNeuron`` (default parameters), a population (its parameters and label are used;
        it is not modified) or the parameter set of a registered model family
        (:mod:`~neurosim_nb.core.neurons.registry`) such as ``LIFParameters(tau_m=20.0)``.
    currents : array_like
        Constant input currents, one per neuron, in the model's ``current_units`` (nA for
        every model except Izhikevich, whose dimensionless-by-convention current is mV/ms).
        For Hodgkin-Huxley convert densities with ``pop.density_to_current``.
    duration_ms : float
        Simulated time (ms).
    dt : float
        Time step (ms).
    transient_ms : float
        Initial time (ms) left out of the count (onset transient, adaptation); ``>= 0`` and
        shorter than ``duration_ms``.
    seed : int
        Seed of the run (the constant drive is deterministic; kept for reproducibility).

    Returns
    -------
    xarray.DataArray
        ``rate`` (Hz) along ``current`` (coordinate in the model's current units), with the
        model, ``dt``, ``duration_ms``, ``transient_ms`` and the spike counts in attrs.

    Raises
    ------
    ValueError
        Empty, non-1-D or non-finite currents; ``transient_ms`` outside ``[0, duration_ms)``.
    TypeError
        ``model`` is not a model class, population or parameter set, or no registered
        family takes the parameter set.

    Notes
    -----
    The resolution of a rate is ``1 / (duration_ms - transient_ms)``: one spike more or less.
    Spike times are quantised to ``dt``, so an interspike interval is off by up to one
    step; for the LIF the mean rate agrees with
    :func:`~neurosim_nb.core.neurons.lif.lif_rate_closed_form` to about ``dt / ISI``.

    Examples
    --------
    >>> from neurosim_nb import LIFParameters
    >>> from neurosim_nb.core.neurons.lif import lif_rate_closed_form
    >>> p = LIFParameters()                         # rheobase (V_th - V_rest) / R_m = 2 nA
    >>> f = transfer_function(p, [1.0, 3.0], duration_ms=1000.0, dt=0.01, transient_ms=0.0)
    >>> f.values.tolist(), round(float(lif_rate_closed_form(p, 3.0)), 1)
    ([0.0, 89.0], 89.6)
    """
    i = float_array("currents", currents)
    if i.ndim != 1 or i.size == 0:
        raise InvalidArgumentError(f"currents must be a non-empty 1-D array, got shape {i.shape}")
    if not np.all(np.isfinite(i)):
        raise InvalidArgumentError("currents must be finite (no NaN or inf)")
    duration_ms = positive("duration_ms", duration_ms)
    dt = positive("dt", dt)
    try:
        transient_ms = float(transient_ms)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"transient_ms must be a number of ms, got {transient_ms!r}") from None
    if not (np.isfinite(transient_ms) and 0.0 <= transient_ms < duration_ms):
        raise InvalidArgumentError(
            f"transient_ms must be in [0, duration_ms = {duration_ms}) ms, got "
            f"{transient_ms!r}")
    pop = _population(model, i.size)
    ds = pop.simulate(duration_ms, i, dt=dt, record=(), seed=seed, verbose=False)
    t_stop = float(ds.attrs["duration"])
    counts = as_spike_trains(ds, t_start=transient_ms, t_stop=t_stop).counts
    rate = counts / ((t_stop - transient_ms) / 1000.0)
    units = pop.current_units
    return named(
        rate, name="rate", units="Hz", long_name="stationary firing rate", dims=("current",),
        coords={"current": ("current", i, {"units": units, "long_name": "input current"}),
                "spike_count": ("current", counts.astype(np.int64),
                                {"units": "1", "long_name": "spikes after the transient"})},
        attrs={"model": type(pop).__name__, "params_json": pop.params.to_json(),
               "dt": dt, "duration_ms": t_stop, "transient_ms": transient_ms})


def _siegert_integral(y_r: float, y_th: float) -> float:
    """sqrt(pi) * integral of erfcx(-u) from y_r to y_th (inf when it overflows)."""
    if y_th > 26.0:  # e^{u^2} > 1e293: the rate is 0 to double precision
        return np.inf
    val, _ = integrate.quad(lambda u: special.erfcx(-u), y_r, y_th, limit=200,
                            epsabs=0.0, epsrel=1e-10)
    return np.sqrt(np.pi) * val


def siegert_rate(mu_mV, sigma_mV, tau_m_ms: float, V_th_mV: float, V_reset_mV: float,
                 t_ref_ms: float = 0.0) -> xr.DataArray:
    r"""Stationary rate (Hz) of a LIF neuron driven by white noise (Siegert formula).

    The free membrane potential obeys
    :math:`\tau_m\,dV/dt = -(V - \mu) + \sigma\sqrt{\tau_m}\,\xi(t)`: ``mu_mV`` is its mean
    and ``sigma_mV`` the noise amplitude, whose stationary standard deviation of the free
    potential is :math:`\sigma/\sqrt{2}` (Brunel 2000's convention). All potentials are
    measured on the same absolute scale as ``V`` (not relative to rest): for a LIF with
    rest :math:`V_{rest}`, resistance :math:`R_m` and a mean current :math:`I`,
    :math:`\mu = V_{rest} + R_m I`.

    Parameters
    ----------
    mu_mV : float or array_like
        Mean drive, as an absolute potential (mV).
    sigma_mV : float or array_like
        Noise amplitude (mV), ``>= 0``; broadcast against ``mu_mV``. ``0`` gives the
        deterministic LIF rate :math:`1/(\tau_{ref} + \tau_m \ln\frac{\mu - V_r}{\mu - \theta})`
        above threshold and 0 below, the limit of the formula as :math:`\sigma \to 0`.
    tau_m_ms : float
        Membrane time constant (ms).
    V_th_mV, V_reset_mV : float
        Threshold and reset potential (mV, absolute), ``V_reset_mV < V_th_mV``.
    t_ref_ms : float
        Absolute refractory period (ms).

    Returns
    -------
    xarray.DataArray
        ``siegert_rate`` (Hz) with the broadcast shape of ``mu_mV`` and ``sigma_mV`` (dims
        ``dim_0``, ...; a 0-d array for scalars).

    Raises
    ------
    ValueError
        Non-finite inputs, negative ``sigma_mV``, ``tau_m_ms <= 0``, ``t_ref_ms < 0`` or
        ``V_reset_mV >= V_th_mV``.

    References
    ----------
    Brunel N (2000) Dynamics of sparsely connected networks of excitatory and inhibitory
    spiking neurons. *J Comput Neurosci* 8:183-208, eq. 21.

    Examples
    --------
    >>> float(siegert_rate(-45.0, 0.0, 20.0, -50.0, -60.0, 2.0).round(2))   # deterministic
    41.71
    >>> siegert_rate([-55.0, -45.0], 5.0, 20.0, -50.0, -60.0, 2.0).values.round(2)
    array([ 9.46, 47.22])
    """
    mu, sigma = np.broadcast_arrays(np.asarray(mu_mV, float), np.asarray(sigma_mV, float))
    if mu.size == 0:
        raise InvalidArgumentError("mu_mV and sigma_mV must not be empty")
    for name, v in (("mu_mV", mu), ("sigma_mV", sigma)):
        if not np.all(np.isfinite(v)):
            raise InvalidArgumentError(f"{name} must be finite (no NaN or inf)")
    if np.any(sigma < 0):
        raise InvalidArgumentError("sigma_mV must be >= 0")
    tau = positive("tau_m_ms", tau_m_ms)
    v_th = float(V_th_mV)
    v_r = float(V_reset_mV)
    t_ref = float(t_ref_ms)
    if not (np.isfinite(v_th) and np.isfinite(v_r)) or v_r >= v_th:
        raise InvalidArgumentError(f"V_reset_mV ({V_reset_mV}) must be finite and below V_th_mV "
                                   f"({V_th_mV})")
    if not np.isfinite(t_ref) or t_ref < 0:
        raise InvalidArgumentError(f"t_ref_ms must be a finite number of ms >= 0, got {t_ref_ms!r}")
    rate = np.zeros(mu.shape)
    for idx in np.ndindex(mu.shape):
        m, s = mu[idx], sigma[idx]
        if s == 0.0:
            integral = np.log((m - v_r) / (m - v_th)) if m > v_th else np.inf
        else:
            integral = _siegert_integral((v_r - m) / s, (v_th - m) / s)
        rate[idx] = 1000.0 / (t_ref + tau * integral)
    return named(rate, name="siegert_rate", units="Hz",
                 long_name="stationary rate of a white-noise driven LIF (Siegert)",
                 dims=tuple(f"dim_{k}" for k in range(rate.ndim)),
                 attrs={"tau_m_ms": tau, "V_th_mV": v_th, "V_reset_mV": v_r,
                        "t_ref_ms": t_ref})

"""Widgets generated from parameter metadata (never hand-written per model).

Every :class:`~neurosim_nb.params.ParameterSet` field carries a unit, inclusive bounds and
a one-line description; :func:`widgets_from_params` turns those into sliders:

* range from the bounds (an infinite bound, or a range far wider than the value, is
  replaced by one a few times the value away, so the slider resolves useful values),
* a logarithmic slider for positive quantities whose bounds span more than three decades
  (time constants, resistances), a linear one otherwise,
* the unit in the label and the description (with the allowed range) as tooltip,
* a dropdown for string fields with ``choices``.

Derived optional fields (``None`` meaning "derive it", e.g. ``C_m = tau_m / R_m``) get no
widget: :func:`params_from_widgets` passes ``None`` for them so they are derived again
(see :func:`derived_fields`).

Examples
--------
>>> from neurosim_nb.core.neurons.lif import LIFParameters
>>> ws = widgets_from_params(LIFParameters())
>>> list(ws)
['tau_m', 'V_rest', 'V_threshold', 'V_reset', 't_refractory', 'R_m']
>>> ws["V_rest"].description, ws["V_rest"].min, ws["V_rest"].max, ws["V_rest"].value
('V_rest (mV)', -120.0, 0.0, -70.0)
>>> type(ws["R_m"]).__name__
'FloatLogSlider'
>>> ws["V_reset"].value = -55.0
>>> params_from_widgets(LIFParameters(), ws).V_reset
-55.0
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as W
import numpy as np

from neurosim_nb.params import ParameterSet

__all__ = ["widgets_from_params", "params_from_widgets", "derived_fields", "nice_step",
           "slider_range", "label_for", "LOG_SLIDER_DECADES"]

#: exponent step of logarithmic sliders
LOG_STEP = 0.01
#: positive bounds spanning more than this many decades get a logarithmic slider
LOG_SLIDER_DECADES = 3.0
#: about this many slider positions across the range
SLIDER_POSITIONS = 200
#: a linear range wider than NARROW_SPAN * |value| is narrowed to value +- NARROW_TO * |value|
NARROW_SPAN = 50.0
NARROW_TO = 10.0
DESCRIPTION_WIDTH = "165px"
WIDGET_WIDTH = "410px"


def nice_step(span: float, positions: int = SLIDER_POSITIONS) -> float:
    """The round step (1, 2 or 5 times a power of ten) nearest to ``span / positions``.

    >>> nice_step(120.0), nice_step(0.9), nice_step(1000.0)
    (0.5, 0.005, 5.0)
    """
    if not (span > 0 and math.isfinite(span)):
        return 1.0
    raw = span / positions
    exp = math.floor(math.log10(raw))
    best = min((m * 10.0**exp for m in (1.0, 2.0, 5.0, 10.0)),
               key=lambda s: abs(math.log(s / raw)))
    return float(f"{best:.12g}")


def slider_range(value: float, bounds: tuple[float, float] | None) -> tuple[float, float]:
    """Slider ``(min, max)`` for ``value`` within ``bounds``.

    An infinite bound is replaced by one ``2 * max(|value|, 1)`` away from the value. A
    finite range more than :data:`NARROW_SPAN` times ``|value|`` wide (e.g. a conductance
    of 120 allowed up to 10 000) is narrowed to ``value +- NARROW_TO * |value|`` within the
    bounds, so that the slider resolves the values that matter.

    >>> slider_range(-65.0, (-120.0, 0.0))
    (-120.0, 0.0)
    >>> slider_range(10.0, (0.0, float("inf")))
    (0.0, 30.0)
    >>> slider_range(0.0, None)
    (-2.0, 2.0)
    >>> slider_range(120.0, (0.0, 10000.0))
    (0.0, 1320.0)
    """
    lo, hi = bounds if bounds is not None else (-math.inf, math.inf)
    width = 2.0 * max(abs(value), 1.0)
    lo = float(lo) if math.isfinite(lo) else value - width
    hi = float(hi) if math.isfinite(hi) else value + width
    if value != 0 and hi - lo > NARROW_SPAN * abs(value):
        lo = max(lo, value - NARROW_TO * abs(value))
        hi = min(hi, value + NARROW_TO * abs(value))
    return min(lo, value), max(hi, value)


def on_grid(value: float, lo: float, hi: float, step: float) -> tuple[float, float]:
    """A slider range within ``[lo, hi]`` whose grid ``min + k * step`` holds ``value``.

    >>> on_grid(-54.387, -120.0, 0.0, 0.5)
    (-119.887, -0.387)
    """
    below = math.floor((value - lo) / step + 1e-9)
    above = math.floor((hi - value) / step + 1e-9)
    return round(value - below * step, 12), round(value + above * step, 12)


def log_grid(value: float, lo: float, hi: float, step: float) -> tuple[float, float]:
    """Exponent range of a log slider whose grid ``min + k * step`` holds ``log10(value)``.

    A browser slider snaps to its grid: were the value off the grid (20 on a grid from
    10^-1 in steps of 0.01 gives 10^1.30 = 19.95), the page would show the snapped value,
    and a user could never get the preset's value back (see also :func:`on_grid`).

    >>> lmin, lmax = log_grid(20.0, 0.1, 1000.0, 0.01)
    >>> k = round((math.log10(20.0) - lmin) / 0.01)
    >>> abs(10 ** (lmin + k * 0.01) - 20.0) < 1e-9, lmin >= -1.0, lmax <= 3.0
    (True, True, True)
    """
    lv = math.log10(value)
    below = math.floor((lv - math.log10(lo)) / step + 1e-9)
    above = math.floor((math.log10(hi) - lv) / step + 1e-9)
    return lv - below * step, lv + above * step


def label_for(name: str, unit: str | None) -> str:
    """Widget description: the field name with its unit (none for dimensionless)."""
    return name if unit in (None, "", "1") else f"{name} ({unit})"


def derived_fields(params: ParameterSet) -> list[str]:
    """Optional fields of ``params`` that are unset (``None``) or derived from the others.

    A value counts as derived when setting the field to ``None`` gives it back (e.g. LIF's
    ``C_m = tau_m / R_m``, filled in by validation). Such fields get no widget, and
    :func:`params_from_widgets` sets them to ``None`` so they follow the other fields.
    An optional field set explicitly (e.g. a preset's reference temperature, which
    ``None`` would not reproduce) is an ordinary parameter.

    >>> from neurosim_nb.core.neurons.lif import LIFParameters
    >>> derived_fields(LIFParameters())
    ['C_m']
    """
    out = []
    for name, info in params.field_info().items():
        if not info.get("optional"):
            continue
        value = getattr(params, name)
        if value is None:
            out.append(name)
            continue
        try:
            again = getattr(params.replace(**{name: None}), name)
        except (ValueError, TypeError):
            continue
        if again is not None and np.array_equal(np.asarray(again), np.asarray(value)):
            out.append(name)
    return out


def _style() -> dict[str, Any]:
    return {"style": {"description_width": DESCRIPTION_WIDTH},
            "layout": W.Layout(width=WIDGET_WIDTH)}


def widgets_from_params(params: ParameterSet, *, continuous_update: bool = False
                        ) -> dict[str, W.ValueWidget]:
    """One widget per scalar parameter of ``params``, built from its metadata.

    Parameters
    ----------
    params : ParameterSet
        Values (the widgets' starting values) and metadata (``field_info()``).
    continuous_update : bool
        Sliders report while dragging (``True``) or on release / key press (``False``,
        the default: every report re-simulates).

    Returns
    -------
    dict of str to ipywidgets widget
        ``{field: widget}`` in declaration order: ``FloatSlider`` (linear),
        ``FloatLogSlider`` (wide positive range), ``FloatText`` (no usable range) or
        ``Dropdown`` (choices). Derived optional fields, fields set to ``None`` and
        per-neuron arrays get no widget. Each widget has the CSS class
        ``neurosim-param-<field>``.

    Examples
    --------
    >>> from neurosim_nb.core.neurons.lif import LIFParameters
    >>> w = widgets_from_params(LIFParameters())["t_refractory"]
    >>> w.description, w.step, w.tooltip
    ('t_refractory (ms)', 0.5, 'absolute refractory period; allowed 0 ... 100 ms')
    """
    out: dict[str, W.ValueWidget] = {}
    derived = set(derived_fields(params))
    for name, info in params.field_info().items():
        value = getattr(params, name)
        if name in derived or value is None:
            continue
        unit = info.get("unit")
        doc = info.get("doc") or name
        desc = label_for(name, unit)
        if info.get("choices"):
            w = W.Dropdown(options=list(info["choices"]), value=value, description=desc,
                           tooltip=doc, **_style())
        else:
            arr = np.asarray(value)
            if arr.ndim != 0 or not np.issubdtype(arr.dtype, np.number):
                continue
            value = float(arr)
            bounds = info.get("bounds")
            lo, hi = slider_range(value, bounds)
            unit_txt = "" if unit in (None, "", "1") else f" {unit}"
            tip = (f"{doc}; allowed {bounds[0]:g} ... {bounds[1]:g}{unit_txt}"
                   if bounds is not None else f"{doc} ({unit_txt.strip() or 'no unit'})")
            common = dict(value=value, description=desc, tooltip=tip, readout=True,
                          continuous_update=continuous_update, **_style())
            if lo == hi:
                w = W.FloatText(value=value, description=desc, tooltip=tip, **_style())
            elif lo > 0 and math.log10(hi / lo) > LOG_SLIDER_DECADES:
                lmin, lmax = log_grid(value, lo, hi, LOG_STEP)
                w = W.FloatLogSlider(base=10.0, min=lmin, max=lmax, step=LOG_STEP,
                                     readout_format=".4g", **common)
            else:
                step = nice_step(hi - lo)
                lo, hi = on_grid(value, lo, hi, step)
                w = W.FloatSlider(min=lo, max=hi, step=step, readout_format=".4g", **common)
        w.add_class(f"neurosim-param-{name}")
        out[name] = w
    return out


def params_from_widgets(base: ParameterSet, widgets: dict[str, W.ValueWidget]) -> ParameterSet:
    """``base`` with every widget's value applied and derived fields re-derived.

    Raises
    ------
    ValueError
        The combination is invalid (the message names the field and what is allowed).
    """
    changes: dict[str, Any] = {name: None for name in derived_fields(base)}
    for name, w in widgets.items():
        value, old = w.value, getattr(base, name, None)
        # a value the browser sent back rounded by a few ulp (a log slider's 10**x) is the
        # parameter unchanged: keep it exact, so results do not drift without a user action
        if (isinstance(value, float) and isinstance(old, float | int)
                and not isinstance(old, bool) and math.isclose(value, old, rel_tol=1e-12)):
            value = old
        changes[name] = value
    return base.replace(**changes)

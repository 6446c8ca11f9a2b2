"""Parameter sets: frozen dataclasses whose fields carry unit, bounds and description.

One declaration drives validation, widget ranges, axis labels and NetCDF attrs::

    @parameters
    class LIFParameters(ParameterSet):
        tau_m: float = param(10.0, "ms", (0.1, 1000.0), "membrane time constant")

A field holds a scalar (the same value for every neuron of a population) or an array
with one value per neuron. Invalid values raise :class:`ValueError` naming the field,
the value and the allowed range. Change a parameter with :meth:`ParameterSet.replace`;
nothing mutates in place.

Examples
--------
>>> @parameters
... class Demo(ParameterSet):
...     tau: float = param(10.0, "ms", (0.1, 100.0), "time constant")
>>> Demo(tau=5.0).tau
5.0
>>> Demo(tau=-1.0)
Traceback (most recent call last):
...
ValueError: Demo.tau = -1.0 ms is outside the allowed range [0.1, 100] ms (time constant)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from neurosim_nb._validation import did_you_mean


def param(
    default: Any,
    unit: str,
    bounds: tuple[float, float] | None = None,
    doc: str = "",
    *,
    optional: bool = False,
    choices: tuple[str, ...] | None = None,
):
    """Declare a parameter field with its unit, inclusive bounds and description.

    Parameters
    ----------
    default : float, str or None
        Default value.
    unit : str
        Unit in the coherent set of :mod:`neurosim_nb.units` (``"1"`` if dimensionless).
    bounds : (float, float), optional
        Inclusive allowed range; ``None`` for string choices.
    doc : str
        One-line description, used for widget tooltips and attrs.
    optional : bool
        ``None`` is an allowed value (meaning "derive it").
    choices : tuple of str, optional
        Allowed values of a string field.
    """
    return field(
        default=default,
        metadata={"unit": unit, "bounds": bounds, "doc": doc, "optional": optional,
                  "choices": choices},
    )


def _fmt(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.3g}"


def parameters(cls):
    """Class decorator for parameter sets: a frozen dataclass using this module's
    validation, equality (arrays compared by value) and unit-annotated ``repr``."""
    return dataclass(frozen=True, eq=False, repr=False)(cls)


@dataclass(frozen=True, eq=False, repr=False)
class ParameterSet:
    """Base of every parameter dataclass: validates each field on construction."""

    def __post_init__(self) -> None:
        for f in fields(self):
            meta = f.metadata
            if "unit" not in meta:
                continue
            value = getattr(self, f.name)
            if value is None:
                if meta["optional"]:
                    continue
                raise ValueError(f"{type(self).__name__}.{f.name} must not be None")
            if meta["choices"] is not None:
                if value not in meta["choices"]:
                    raise ValueError(
                        f"{type(self).__name__}.{f.name} = {value!r} is not one of "
                        f"{list(meta['choices'])}"
                    )
                continue
            self._check_number(f.name, value, meta)
        self.validate()

    def _check_number(self, name: str, value: Any, meta: dict) -> None:
        cls = type(self).__name__
        unit = meta["unit"]
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{cls}.{name} = {value!r} is not a number ({unit})") from None
        if arr.ndim > 1:
            raise ValueError(f"{cls}.{name} must be a scalar or a 1-D per-neuron array")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{cls}.{name} = {value!r} must be a finite number ({unit})")
        lo, hi = meta["bounds"] if meta["bounds"] is not None else (-np.inf, np.inf)
        bad = (arr < lo) | (arr > hi)
        if np.any(bad):
            shown = float(arr) if arr.ndim == 0 else float(arr[bad][0])
            raise ValueError(
                f"{cls}.{name} = {shown!r} {unit} is outside the allowed range "
                f"[{_fmt(lo)}, {_fmt(hi)}] {unit} ({meta['doc']})"
            )
        if arr.ndim == 1 and not isinstance(value, np.ndarray):
            object.__setattr__(self, name, arr)

    def validate(self) -> None:
        """Cross-field checks; subclasses override and raise :class:`ValueError`."""

    # -- conveniences -------------------------------------------------------------
    def replace(self, **changes: Any) -> ParameterSet:
        """Return a copy with ``changes`` applied (validated like a new instance).

        Unknown names raise :class:`TypeError` with the closest valid name.
        """
        names = [f.name for f in fields(self)]
        for key in changes:
            if key not in names:
                raise TypeError(f"{type(self).__name__} has no parameter {key!r}."
                                f"{did_you_mean(key, names)}")
        for name in self.__dict__.get("_derived", ()):
            changes.setdefault(name, None)  # re-derive from the new values
        return dataclasses.replace(self, **changes)

    def _set_derived(self, name: str, value: Any) -> None:
        """Fill optional field ``name`` from the others (re-derived on :meth:`replace`)."""
        object.__setattr__(self, name, value)
        object.__setattr__(self, "_derived", (*self.__dict__.get("_derived", ()), name))

    @classmethod
    def field_info(cls) -> dict[str, dict[str, Any]]:
        """Metadata of every parameter: ``{name: {unit, bounds, doc, default, ...}}``."""
        out = {}
        for f in fields(cls):
            if "unit" in f.metadata:
                out[f.name] = dict(f.metadata, default=f.default)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict of the values (arrays become lists)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v = v.tolist()
            elif isinstance(v, np.generic):
                v = v.item()
            out[f.name] = v
        return out

    def to_json(self) -> str:
        """JSON string of :meth:`to_dict`, with units, for Dataset attrs."""
        info = self.field_info()
        payload = {
            "class": type(self).__name__,
            "values": self.to_dict(),
            "units": {k: v["unit"] for k, v in info.items()},
        }
        return json.dumps(payload, sort_keys=True)

    def per_neuron(self, name: str, n: int) -> np.ndarray:
        """Field ``name`` broadcast to a contiguous float64 array of length ``n``."""
        value = np.asarray(getattr(self, name), dtype=float)
        if value.ndim == 1 and value.shape[0] != n:
            raise ValueError(
                f"{type(self).__name__}.{name} has {value.shape[0]} values for {n} neurons"
            )
        return np.ascontiguousarray(np.broadcast_to(value, (n,)), dtype=np.float64)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        parts = []
        info = self.field_info()
        for k, v in self.to_dict().items():
            unit = info.get(k, {}).get("unit", "")
            unit = "" if unit in ("", "1") or isinstance(v, str) or v is None else f" {unit}"
            parts.append(f"{k}={v!r}{unit}")
        return f"{type(self).__name__}({', '.join(parts)})"

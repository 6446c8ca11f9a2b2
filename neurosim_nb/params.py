"""Parameter sets: frozen dataclasses whose fields carry unit, bounds and description.

One declaration drives validation, widget ranges, axis labels and NetCDF attrs::

    @parameters
    class LIFParameters(ParameterSet):
        tau_m: float = param(10.0, "ms", (0.1, 1000.0), "membrane time constant")

A field holds a scalar (the same value for every neuron of a population) or an array
with one value per neuron. Invalid values raise
:class:`~neurosim_nb.errors.InvalidArgumentError` (a :class:`ValueError`), values of the
wrong type :class:`~neurosim_nb.errors.ArgumentTypeError` (a :class:`TypeError`), each
naming the field, the value and what is allowed. Change a parameter with
:meth:`ParameterSet.replace`; nothing mutates in place.

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
neurosim_nb.errors.InvalidArgumentError: Demo.tau = -1.0 ms is outside the allowed range \
[0.1, 100] ms (time constant)
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from neurosim_nb._validation import did_you_mean
from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError, NeurosimError


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


def _holds_non_number(values) -> bool:
    """Whether a (nested) list holds something NumPy would turn into a number although it
    is not one (a bool, a numeric string)."""
    for v in values:
        if isinstance(v, list | tuple):
            if _holds_non_number(v):
                return True
        elif isinstance(v, str | bytes | bool | np.bool_) or not isinstance(v, numbers.Real):
            return True
    return False


def parameters(cls):
    """Class decorator for parameter sets: a frozen dataclass using this module's
    validation, equality (arrays compared by value) and unit-annotated ``repr``."""
    return dataclass(frozen=True, eq=False, repr=False)(cls)


@dataclass(frozen=True, eq=False, repr=False)
class ParameterSet:
    """Base of every parameter dataclass: validates each field on construction.

    A number field takes a real number (a bool or a string is not one: an
    :class:`~neurosim_nb.errors.ArgumentTypeError`) or a non-empty 1-D array of them, one
    per neuron (all per-neuron fields of a set have the same length); finite and within
    the field's bounds (else an :class:`~neurosim_nb.errors.InvalidArgumentError`). A
    choice field takes one of its strings. Every message names ``Class.field``.

    >>> from neurosim_nb import LIFParameters
    >>> LIFParameters(tau_m=True)
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.ArgumentTypeError: LIFParameters.tau_m = True is not a number (ms)
    """

    def __post_init__(self) -> None:
        lengths = {}
        for f in fields(self):
            meta = f.metadata
            if "unit" not in meta:
                continue
            value = getattr(self, f.name)
            where = f"{type(self).__name__}.{f.name}"
            if value is None:
                if meta["optional"]:
                    continue
                # a missing value (a ValueError, as before): not a number of the wrong type
                raise InvalidArgumentError(f"{where} must not be None")
            if meta["choices"] is not None:
                if not isinstance(value, str) or value not in meta["choices"]:
                    error = InvalidArgumentError if isinstance(value, str) else ArgumentTypeError
                    hint = did_you_mean(value, meta["choices"]) if error is not \
                        ArgumentTypeError else ""
                    raise error(f"{where} = {value!r} is not one of {list(meta['choices'])}"
                                f"{'.' + hint if hint else ''}")
                continue
            size = self._check_number(f.name, value, meta)
            if size is not None:
                lengths[f.name] = size
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{k} has {v}" for k, v in lengths.items())
            raise InvalidArgumentError(
                f"{type(self).__name__}: the per-neuron arrays differ in length ({shown} "
                "values); give every per-neuron field one value per neuron")
        try:
            self.validate()
        except NeurosimError:
            raise
        except TypeError as err:  # a subclass's cross-field check on a value it cannot use
            arrays = f" (given as arrays: {', '.join(lengths)}; this class takes one number " \
                     "per field)" if lengths else ""
            raise ArgumentTypeError(f"{type(self).__name__}: {err}{arrays}") from None
        except (ValueError, ArithmeticError) as err:
            raise InvalidArgumentError(str(err)) from None
        info = self.field_info()
        for name in self.__dict__.get("_derived", ()):  # a derived value obeys its bounds too
            try:
                self._check_number(name, getattr(self, name), info[name])
            except InvalidArgumentError as err:
                raise InvalidArgumentError(f"{err}; it is derived from the other fields: "
                                           "change them so that it falls in its range"
                                           ) from None

    def _check_number(self, name: str, value: Any, meta: dict) -> int | None:
        """Check a number field; returns the length of a per-neuron array (else None)."""
        where = f"{type(self).__name__}.{name}"
        unit = meta["unit"]
        not_a_number = f"{where} = {value!r} is not a number ({unit})"
        if isinstance(value, str | bytes | bool | np.bool_):
            raise ArgumentTypeError(not_a_number)
        if isinstance(value, numbers.Number):
            if not isinstance(value, numbers.Real):
                raise ArgumentTypeError(not_a_number)
            arr = self._as_float(where, value, unit)
        else:
            if isinstance(value, list | tuple) and _holds_non_number(value):
                raise ArgumentTypeError(f"{where} = {value!r} must be a number ({unit}) or a "
                                        "1-D array of numbers (one per neuron)")
            try:
                raw = np.asarray(value)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"{where} must be a number ({unit}) or a 1-D "
                                           "per-neuron array, got a ragged sequence") from None
            if raw.dtype.kind not in "iuf":
                raise ArgumentTypeError(f"{where} = {value!r} must be a number ({unit}) or a "
                                        f"1-D array of numbers (one per neuron), got dtype "
                                        f"{raw.dtype}")
            if raw.ndim > 1:
                raise InvalidArgumentError(f"{where} must be a scalar or a 1-D per-neuron "
                                           f"array, got shape {raw.shape}")
            if raw.ndim == 1 and raw.size == 0:
                raise InvalidArgumentError(f"{where} is an empty array; give a number ({unit}) "
                                           "or one value per neuron")
            arr = self._as_float(where, raw, unit)
        if not np.all(np.isfinite(arr)):
            raise InvalidArgumentError(f"{where} = {value!r} must be a finite number ({unit})")
        lo, hi = meta["bounds"] if meta["bounds"] is not None else (-np.inf, np.inf)
        bad = (arr < lo) | (arr > hi)
        if np.any(bad):
            shown = float(arr) if arr.ndim == 0 else float(arr[bad][0])
            raise InvalidArgumentError(
                f"{where} = {shown!r} {unit} is outside the allowed range "
                f"[{_fmt(lo)}, {_fmt(hi)}] {unit} ({meta['doc']})"
            )
        if arr.ndim == 1:
            if not isinstance(value, np.ndarray) or value.dtype != np.float64:
                object.__setattr__(self, name, arr)
            return int(arr.shape[0])
        return None

    @staticmethod
    def _as_float(where: str, value, unit: str) -> np.ndarray:
        try:
            return np.asarray(value, dtype=float)
        except OverflowError:  # a Python int beyond float range
            raise InvalidArgumentError(f"{where} = {value!r} must be a finite number "
                                       f"({unit})") from None

    def validate(self) -> None:
        """Cross-field checks; subclasses override and raise :class:`ValueError` (turned
        into an :class:`~neurosim_nb.errors.InvalidArgumentError` by the constructor)."""

    # -- conveniences -------------------------------------------------------------
    def replace(self, **changes: Any) -> ParameterSet:
        """Return a copy with ``changes`` applied (validated like a new instance).

        Unknown names raise :class:`TypeError` with the closest valid name.
        """
        names = [f.name for f in fields(self)]
        for key in changes:
            if key not in names:
                raise ArgumentTypeError(f"{type(self).__name__} has no parameter {key!r}."
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
            raise InvalidArgumentError(
                f"{type(self).__name__}.{name} has {value.shape[0]} values for {n} neurons"
                f" (give one value, or {n}: one per neuron)"
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

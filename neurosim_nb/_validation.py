"""One validator for every JSON-like input: checks whose errors name the key path.

Network specs (:mod:`neurosim_nb.core.networks.spec`), model configurations
(:mod:`neurosim_nb.export.config`), run configurations and command-line flags
(:mod:`neurosim_nb.export.run_config`) and Dataset descriptions
(:mod:`neurosim_nb.export.formats`) each describe their schema with one :class:`Checker`
that raises their own :class:`ValueError` subclass, the message starting with the key path
(the ONI reader's JSON Schema check uses the same number and integer rules)::

    populations.E.n: 0 must be an integer >= 1

:class:`SentenceChecker` words the same checks as sentences (``duration must be a number
(ms), got 'long'``; run configurations and flags).

The rules every input shares:

* booleans are not numbers; numbers are finite; an integer may be written as an integral
  float (``3.0``, as JSON Schema counts it);
* an unknown key (or name) is an error that suggests the closest known one;
* a document nested deeper than :data:`MAX_DEPTH` levels (or holding itself) is refused
  before anything walks it, instead of a ``RecursionError`` deep inside a copy or an encoder;
* :func:`parse_json` reads files as strict JSON (``NaN``, ``Infinity`` are errors) and
  turns the parser's ``RecursionError`` into a ``ValueError``.

This module imports only :mod:`neurosim_nb.errors` (every layer may use it).

>>> class DocError(ValueError): ...
>>> check = Checker(DocError)
>>> spec = {"populations": [{"n": 3}, {"n": -3}], "duraton": 1.0}
>>> try:
...     check.keys("", spec, ("populations", "duration"))
... except DocError as e:
...     print(e)
duraton: unknown key; allowed keys: populations, duration. Did you mean 'duration'?
>>> try:
...     for where, pop in check.entries("populations", spec["populations"]):
...         n = check.integer(f"{where}.n", pop["n"], AT_LEAST_ONE)
... except DocError as e:
...     print(e)
populations[1].n: -3 must be an integer >= 1
>>> try:
...     SentenceChecker(DocError).number("duration", "long", POSITIVE, unit="ms")
... except DocError as e:
...     print(e)
duration must be a number (ms), got 'long'
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_DEPTH", "Bounds", "POSITIVE", "NON_NEGATIVE", "AT_LEAST_ONE", "PROBABILITY",
           "FRACTION", "Field", "Checker", "SentenceChecker", "closest", "did_you_mean",
           "is_integer", "is_number", "parse_json", "MEMORY_LIMIT_ENV", "MEMORY_LIMIT_BYTES",
           "MEMORY_FRACTION", "format_bytes", "available_memory", "memory_limit",
           "check_allocation", "check_number", "check_integer", "check_array"]

#: nesting levels a document may have (the deepest legitimate one, a model configuration
#: holding a network spec, has about ten)
MAX_DEPTH = 64

_CONTAINERS = (dict, list, tuple)


@dataclass(frozen=True)
class Bounds:
    """An interval of allowed values (``None``: unbounded on that side).

    >>> str(Bounds(0, 1, open_lo=True)), 0.0 in Bounds(0, 1, open_lo=True)
    ('in (0, 1]', False)
    """

    lo: float | None = None
    hi: float | None = None
    open_lo: bool = False
    open_hi: bool = False

    def __contains__(self, value) -> bool:
        lo, hi = self.lo, self.hi
        return ((lo is None or (value > lo if self.open_lo else value >= lo))
                and (hi is None or (value < hi if self.open_hi else value <= hi)))

    def __str__(self) -> str:
        if self.hi is None:
            return f"{'>' if self.open_lo else '>='} {self.lo:g}"
        if self.lo is None:
            return f"{'<' if self.open_hi else '<='} {self.hi:g}"
        return (f"in {'(' if self.open_lo else '['}{self.lo:g}, "
                f"{self.hi:g}{')' if self.open_hi else ']'}")


POSITIVE = Bounds(0, open_lo=True)
NON_NEGATIVE = Bounds(0)
AT_LEAST_ONE = Bounds(1)
PROBABILITY = Bounds(0, 1)
FRACTION = Bounds(0, 1, open_lo=True)


@dataclass(frozen=True)
class Field:
    """One key of a table-driven schema, checked by :meth:`Checker.field`.

    ``kind`` is ``"integer"``, ``"number"`` (a float), ``"string"`` (one of ``choices``
    when given), ``"strings"`` (a list of strings, a tuple) or ``"mapping"``.
    """

    kind: str
    bounds: Bounds | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()


def is_integer(value) -> bool:
    """An integer or an integral float, not a bool."""
    return not isinstance(value, bool) and (
        isinstance(value, numbers.Integral) or (isinstance(value, float)
                                                and value.is_integer()))


def is_number(value) -> bool:
    """A real number, not a bool (NaN and infinities included)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def positive_number(name: str, value, unit: str = "") -> float:
    """``value`` as a float: a :class:`TypeError` unless a number (not a bool), a
    :class:`ValueError` unless finite and > 0; the messages name ``name`` and ``unit``.

    >>> positive_number("dt_ms", 0.025)
    0.025
    >>> positive_number("dt_ms", -1, "ms")
    Traceback (most recent call last):
    ...
    ValueError: dt_ms must be a finite number of ms > 0, got -1
    """
    of = f" of {unit}" if unit else ""
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a number{of}, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number{of}, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number{of} > 0, got {value!r}")
    return v


def closest(name, choices: Iterable) -> str | None:
    """The choice most like ``name``, or one with the same last dotted part (a known key in
    another object: ``"amplitude"`` for ``"inputs.amplitude"``), or ``None``.

    >>> closest("fixed_prob", ["all_to_all", "fixed_probability"])
    'fixed_probability'
    >>> closest("amplitude", ["duration", "inputs.amplitude"])
    'inputs.amplitude'
    """
    names = [str(c) for c in choices]
    match = difflib.get_close_matches(str(name), names, n=1)
    if match:
        return match[0]
    leaf = str(name).rsplit(".", 1)[-1]
    return next((c for c in names if c.rsplit(".", 1)[-1] == leaf), None)


def did_you_mean(name, choices) -> str:
    """`` Did you mean 'x'?`` for the :func:`closest` of ``choices``, else ``""``."""
    match = closest(name, choices)
    return f" Did you mean {match!r}?" if match else ""


def parse_json(text: str):
    """``json.loads`` for files: strict (``NaN``, ``Infinity`` are errors) and a
    ``ValueError`` instead of a ``RecursionError`` for a document too deep to parse.

    >>> parse_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> parse_json("[" * 100000)
    Traceback (most recent call last):
    ...
    ValueError: nested too deeply to parse
    """
    def constant(name):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, parse_constant=constant)
    except RecursionError:
        raise ValueError("nested too deeply to parse") from None


def _holds_bool(values) -> bool:
    """Whether a (nested) list holds a bool, which NumPy would take as 0 or 1."""
    types = set(map(type, values))
    if bool in types or np.bool_ in types:
        return True
    return (list in types or tuple in types) and any(
        _holds_bool(v) for v in values if isinstance(v, list | tuple))


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""


def _listing(choices) -> str:
    return ", ".join(str(c) for c in choices)


class Checker:
    """Validators raising ``error`` with messages ``"{path}: {problem}"``.

    Each returns the value checked (converted where said); the path is the caller's:
    :meth:`join` and :meth:`entries` / :meth:`members` build the paths of nested values.
    """

    #: how a number is asked for in messages
    number_word = "a finite number"

    def __init__(self, error: type[ValueError], max_depth: int = MAX_DEPTH) -> None:
        self.error = error
        self.max_depth = max_depth

    # -- wording (SentenceChecker words these differently) -----------------------------------
    def fail(self, path: str, message: str) -> ValueError:
        """The exception (to ``raise``) for a problem at ``path``."""
        return self.error(f"{path or 'document'}: {message}")

    def wrong(self, path: str, value, requirement: str, unit: str = "") -> ValueError:
        """``value`` at ``path`` is not ``requirement`` (``"an integer >= 1"``)."""
        return self.fail(path, f"{value!r} must be {requirement}{_unit(unit)}")

    def expected(self, path: str, what: str, value) -> ValueError:
        """A value of the wrong JSON type where a container was needed."""
        return self.fail(path, f"expected {what}, got {type(value).__name__}")

    def suggest(self, name, choices) -> str:
        """The hint at the choice closest to ``name`` (``""`` if none is close)."""
        return did_you_mean(name, choices)

    def unknown_key(self, path: str, allowed, hint: str) -> ValueError:
        return self.fail(path, f"unknown key; allowed keys: {_listing(allowed)}.{hint}")

    def unknown(self, path: str, value, choices, what: str) -> ValueError:
        """``value`` is not one of ``choices`` (a ``what``: "model", "population", ...)."""
        return self.fail(path, f"unknown {what} {value!r}; choose from {_listing(choices)}."
                               f"{self.suggest(value, choices)}")

    def missing(self, path: str) -> ValueError:
        return self.fail(path, "required key is missing")

    # -- structure ---------------------------------------------------------------------------
    @staticmethod
    def join(path: str, key) -> str:
        """``path.key`` (or ``key`` at the top)."""
        return f"{path}.{key}" if path else str(key)

    def document(self, value, path: str = ""):
        """``value`` if no container in it is more than :attr:`max_depth` levels deep (a
        container holding itself is infinitely deep)."""
        stack = [(value, ())]
        while stack:
            node, keys = stack.pop()
            if len(keys) > self.max_depth:
                where = path
                for key in keys:
                    where = f"{where}[{key}]" if isinstance(key, int) else self.join(where, key)
                raise self.fail(where, f"nested deeper than {self.max_depth} levels")
            is_dict = isinstance(node, dict)
            if not any(issubclass(t, _CONTAINERS)  # a list of numbers: one pass in C
                       for t in set(map(type, node.values() if is_dict else node))):
                continue
            for key, item in node.items() if is_dict else enumerate(node):
                if isinstance(item, _CONTAINERS):
                    stack.append((item, (*keys, str(key) if is_dict else key)))
        return value

    def mapping(self, path: str, value) -> dict:
        """``value`` if it is a dict (a JSON object)."""
        if not isinstance(value, dict):
            raise self.expected(path, "a mapping (JSON object)", value)
        return value

    def list(self, path: str, value) -> list:
        """``value`` if it is a list or tuple (a JSON array)."""
        if not isinstance(value, list | tuple):
            raise self.expected(path, "a list", value)
        return value

    def keys(self, path: str, value, allowed, required=(), paths=None) -> dict:
        """``value`` if it is a mapping with no key outside ``allowed`` (else the closest is
        suggested: of ``allowed``, or of the full key paths ``paths`` of the whole schema when
        given) and every key of ``required``."""
        for key in self.mapping(path, value):
            if key not in allowed:
                where = self.join(path, key)
                hint = (self.suggest(where, paths) if paths is not None
                        else self.suggest(key, allowed))
                raise self.unknown_key(where, allowed, hint)
        for key in required:
            if key not in value:
                raise self.missing(self.join(path, key))
        return value

    def entries(self, path: str, value) -> Iterator[tuple[str, dict]]:
        """``(path[i], item)`` of a list of mappings."""
        for i, item in enumerate(self.list(path, value)):
            where = f"{path}[{i}]"
            yield where, self.mapping(where, item)

    def members(self, path: str, value) -> Iterator[tuple[str, Any, Any]]:
        """``(path.key, key, item)`` of a mapping."""
        for key, item in self.mapping(path, value).items():
            yield self.join(path, key), key, item

    def layer_map(self, path: str, value, item: Callable | None = None) -> dict[int, Any]:
        """A mapping keyed by layer number (``{"1": ...}``: JSON keys are strings) as
        ``{1: item(path.key, value)}``; ``item`` defaults to :meth:`string`."""
        out = {}
        for where, key, v in self.members(path, value):
            try:
                layer = int(key)
            except (TypeError, ValueError):
                raise self.fail(where, "keys must be layer numbers") from None
            out[layer] = (item or self.string)(where, v)
        return out

    # -- values ------------------------------------------------------------------------------
    def string(self, path: str, value) -> str:
        if not isinstance(value, str):
            raise self.wrong(path, value, "a string")
        return value

    def strings(self, path: str, value) -> list[str]:
        """A list of strings (one string is a list of one)."""
        if isinstance(value, str):
            return [value]
        return [self.string(f"{path}[{i}]", v) for i, v in enumerate(self.list(path, value))]

    def boolean(self, path: str, value) -> bool:
        if not isinstance(value, bool):
            raise self.wrong(path, value, "true or false")
        return value

    def integer(self, path: str, value, bounds: Bounds | None = None) -> int:
        """``value`` as an int (an integral float is fine, a bool is not), within ``bounds``."""
        if not is_integer(value):
            raise self.wrong(path, value, "an integer")
        value = int(value)
        if bounds is not None and value not in bounds:
            raise self.wrong(path, value, f"an integer {bounds}")
        return value

    def number(self, path: str, value, bounds: Bounds | None = None, unit: str = ""):
        """``value`` if it is a finite number within ``bounds`` (kept as given: int or float;
        a bool is not a number)."""
        if not is_number(value) or not math.isfinite(value):
            raise self.wrong(path, value, self.number_word, unit)
        if bounds is not None and value not in bounds:
            raise self.wrong(path, value, str(bounds), unit)
        return value

    def choice(self, path: str, value, choices, what: str = "value") -> str:
        """``value`` if it is one of the strings ``choices`` (a dict: one of its keys)."""
        value = self.string(path, value)
        if value not in choices:
            raise self.unknown(path, value, choices, what)
        return value

    def kind(self, path: str, spec: dict, table: dict, what: str = "type"):
        """The entry of ``table`` that ``spec["type"]`` names (required)."""
        where = self.join(path, "type")
        if "type" not in spec:
            raise self.missing(where)
        return table[self.choice(where, spec["type"], table, what)]

    def field(self, path: str, value, field: Field):
        """``value`` checked against a :class:`Field`: an int, a float, a string, a tuple of
        strings or a dict."""
        if field.kind == "integer":
            return self.integer(path, value, field.bounds)
        if field.kind == "number":
            return float(self.number(path, value, field.bounds, field.unit))
        if field.kind == "strings":
            return tuple(self.strings(path, value))
        if field.kind == "mapping":
            return self.mapping(path, value)
        if field.choices:
            return self.choice(path, value, field.choices)
        return self.string(path, value)

    # -- arrays ------------------------------------------------------------------------------
    def length(self, path: str, got: int, needed: int) -> None:
        if got != needed:
            raise self.fail(path, f"{got} values where {needed} are needed")

    def array(self, path: str, value, kind: str, length: int | None = None, ndim: int = 1
              ) -> np.ndarray:
        """A JSON list as an array: ``kind`` ``"f"`` (finite numbers, float64), ``"i"``
        (integers, int64) or ``"b"`` (booleans); ``length`` checks the first dimension."""
        self.list(path, value)
        try:
            arr = np.asarray(value)
        except ValueError:
            raise self.fail(path, "a ragged nested list (rows of different lengths)") from None
        if arr.size == 0:
            arr = arr.reshape((0,) * ndim if length in (None, 0) else arr.shape)
        elif kind == "b":
            if arr.dtype != bool:
                raise self.fail(path, "must be a list of true/false values")
        elif arr.dtype.kind not in ("i", "u") + (("f",) if kind == "f" else ()) or _holds_bool(
                value):
            raise self.fail(path, f"must be a list of {'numbers' if kind == 'f' else 'integers'}")
        if arr.ndim != ndim and arr.size:
            raise self.fail(path, f"expected a {ndim}-dimensional list, got {arr.ndim} "
                                  f"dimensions")
        if length is not None:
            self.length(path, arr.shape[0] if arr.ndim else 0, length)
        if kind == "f":
            arr = arr.astype(np.float64)
            if not np.all(np.isfinite(arr)):
                raise self.fail(path, "values must be finite")
        elif kind == "i":
            arr = arr.astype(np.int64)
        return arr

    def indices(self, path: str, value, n: int, length: int | None = None, of: str = ""
                ) -> np.ndarray:
        """A list of indices into ``n`` items (of ``of``, named in the message)."""
        idx = self.array(path, value, "i", length=length)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise self.fail(path, f"indices must be in 0..{n - 1}{f' ({of})' if of else ''}")
        return idx

    def call(self, path: str, func: Callable, *args, **kwargs):
        """``func(*args, **kwargs)``; a ValueError or TypeError it raises (a constructor
        refusing a value) becomes this checker's error at ``path``."""
        try:
            return func(*args, **kwargs)
        except self.error:
            raise
        except (TypeError, ValueError) as err:
            raise self.fail(path, str(err)) from None


class SentenceChecker(Checker):
    """The checks of :class:`Checker` worded as sentences: ``n_layers must be an integer > 0,
    got 0``, ``unknown key 'inputs.amplitud' (did you mean 'inputs.amplitude'?)``."""

    number_word = "a number"

    def wrong(self, path: str, value, requirement: str, unit: str = "") -> ValueError:
        return self.error(f"{path} must be {requirement}{_unit(unit)}, got {value!r}")

    def expected(self, path: str, what: str, value) -> ValueError:
        return self.error(f"{path} must be {what}, got {type(value).__name__}")

    def suggest(self, name, choices) -> str:
        match = closest(name, choices)
        return f" (did you mean {match!r}?)" if match else ""

    def unknown_key(self, path: str, allowed, hint: str) -> ValueError:
        return self.error(f"unknown key {path!r}{hint or f'; known keys: {_listing(allowed)}'}")

    def unknown(self, path: str, value, choices, what: str) -> ValueError:
        return self.error(f"{path} must be one of {_listing(choices)}; got {value!r}"
                          f"{self.suggest(value, choices)}")

    def missing(self, path: str) -> ValueError:
        return self.error(f"{path} is required")


# -- memory: refuse before allocating --------------------------------------------------------
#: environment variable overriding :func:`memory_limit` (bytes; a ``K``/``M``/``G``/``T``
#: suffix counts in 1024s: ``NEUROSIM_NB_MEMORY_LIMIT=8G``)
MEMORY_LIMIT_ENV = "NEUROSIM_NB_MEMORY_LIMIT"
#: the limit in bytes when set (a test or a session may assign it); ``None``: a fraction
#: :data:`MEMORY_FRACTION` of the memory available now. The environment variable wins.
MEMORY_LIMIT_BYTES: int | None = None
#: the share of the available memory one allocation may take: the rest is left to the
#: arrays a run makes beside the estimated ones (recordings, NumPy temporaries, the
#: interpreter) and to the other programs of the machine
MEMORY_FRACTION = 0.5

_SUFFIX = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def format_bytes(n_bytes: float) -> str:
    """A byte count for a message, in binary units.

    >>> format_bytes(512), format_bytes(3 * 2**30), format_bytes(8e12), format_bytes(1e300)
    ('512 B', '3.0 GiB', '7.3 TiB', '1e+300 B')
    """
    n = float(n_bytes)
    if not n < 2**50:  # beyond 1024 TiB (or inf): a power of ten reads better
        return f"{n:.3g} B"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now: ``MemAvailable`` of
    ``/proc/meminfo`` (Linux), else the free physical pages of ``os.sysconf``; ``None`` if
    neither can be read.

    >>> available_memory() is None or available_memory() > 0
    True
    """
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the kernel writes kB (KiB)
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit() -> tuple[int | None, str]:
    """The largest allocation :func:`check_allocation` lets through, in bytes, and where the
    figure comes from (for messages): the environment variable :data:`MEMORY_LIMIT_ENV`,
    else :data:`MEMORY_LIMIT_BYTES`, else :data:`MEMORY_FRACTION` of
    :func:`available_memory` (``None``: unknown, nothing is refused).

    >>> import os
    >>> os.environ[MEMORY_LIMIT_ENV] = "2G"
    >>> memory_limit()
    (2147483648, 'NEUROSIM_NB_MEMORY_LIMIT=2G')
    >>> del os.environ[MEMORY_LIMIT_ENV]
    """
    import os

    from neurosim_nb.errors import InvalidArgumentError

    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if text:
        number, suffix = text.rstrip("KMGTkmgtBb"), text[len(text.rstrip("KMGTkmgtBb")):]
        suffix = suffix.upper().rstrip("B").rstrip("I")
        try:
            value = float(number) * _SUFFIX[suffix]
        except (ValueError, KeyError):
            value = float("nan")
        if not math.isfinite(value) or value <= 0:
            raise InvalidArgumentError(
                f"environment variable {MEMORY_LIMIT_ENV} must be a number of bytes > 0 "
                f"(a K, M, G or T suffix allowed, e.g. 8G), got {text!r}")
        return int(value), f"{MEMORY_LIMIT_ENV}={text}"
    if MEMORY_LIMIT_BYTES is not None:
        return int(MEMORY_LIMIT_BYTES), "neurosim_nb._validation.MEMORY_LIMIT_BYTES"
    available = available_memory()
    if available is None:
        return None, "unknown available memory"
    return (int(available * MEMORY_FRACTION),
            f"{MEMORY_FRACTION:g} of the {format_bytes(available)} available")


def check_allocation(what: str, n_bytes, hint: str = "") -> int:
    """``n_bytes`` (as an int) if an allocation of that many bytes is within
    :func:`memory_limit`; else a :class:`~neurosim_nb.errors.TooLargeError` saying what
    (``what``: ``"LIFNeuron(n=1000000000)"``) would need how much, how much is allowed and
    what to change (``hint``, plus how to raise the limit). Call it on entry, before any
    array is made, with an estimate that is a lower bound of the real need.

    >>> check_allocation("a 1000-neuron state", 1000 * 8 * 4)
    32000
    >>> import os; os.environ[MEMORY_LIMIT_ENV] = "1M"
    >>> check_allocation("LIFNeuron(n=1000000000)", 4 * 8 * 10**9, "use fewer neurons")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.TooLargeError: LIFNeuron(n=1000000000) would need at least 29.8 GiB \
(32000000000 bytes) of memory, more than the 1.0 MiB allowed (NEUROSIM_NB_MEMORY_LIMIT=1M); \
use fewer neurons, or raise the limit with the environment variable NEUROSIM_NB_MEMORY_LIMIT \
(bytes, e.g. 16G)
    >>> del os.environ[MEMORY_LIMIT_ENV]
    """
    from neurosim_nb.errors import TooLargeError

    try:  # an estimate may be a Python int beyond any float (a size from a hostile file)
        n = float(n_bytes)
    except OverflowError:
        n = math.inf
    if math.isnan(n):
        n = math.inf
    limit, source = memory_limit()
    if limit is None or n <= limit:
        return int(n_bytes)
    exact = (str(int(n_bytes)) if n < 1e20 else f"{n:.3g}") if math.isfinite(n) else \
        "more than 10**308"
    hint = f"{hint}, or raise" if hint else "raise"
    raise TooLargeError(
        f"{what} would need at least {format_bytes(n)} ({exact} bytes) of memory, more than "
        f"the {format_bytes(limit)} allowed ({source}); {hint} the limit with the "
        f"environment variable {MEMORY_LIMIT_ENV} (bytes, e.g. 16G)")


# -- arguments of public functions and constructors ------------------------------------------
def _type_error(message: str):
    from neurosim_nb.errors import ArgumentTypeError

    return ArgumentTypeError(message)


def _value_error(message: str):
    from neurosim_nb.errors import InvalidArgumentError

    return InvalidArgumentError(message)


def _of(unit: str) -> str:
    return f" ({unit})" if unit else ""


def check_number(where: str, value, bounds: Bounds | None = None, unit: str = "",
                 allow_inf: bool = False) -> float:
    """``value`` as a float if it is a real number (a NumPy scalar too; not a bool, not a
    string: an :class:`~neurosim_nb.errors.ArgumentTypeError`), finite (``allow_inf``:
    infinities too; never NaN) and within ``bounds`` (else an
    :class:`~neurosim_nb.errors.InvalidArgumentError`). ``where`` names the argument with
    its owner (``"PulseTrain.onset_ms"``).

    >>> check_number("PulseTrain.onset_ms", 2, NON_NEGATIVE, "ms")
    2.0
    >>> check_number("PulseTrain.onset_ms", float("nan"), NON_NEGATIVE, "ms")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: PulseTrain.onset_ms must be a finite number \
>= 0 (ms), got nan
    >>> check_number("PoissonInput.weight_mV", "3", unit="mV")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.ArgumentTypeError: PoissonInput.weight_mV must be a number (mV), got '3'
    """
    if not is_number(value) or isinstance(value, np.bool_):
        raise _type_error(f"{where} must be a number{_of(unit)}, got {value!r}")
    try:
        v = float(value)
    except OverflowError:  # an int beyond the float range
        v = math.inf if value > 0 else -math.inf
    kind = "a number" if allow_inf else "a finite number"
    rule = f" {bounds}" if bounds is not None else ""
    if math.isnan(v) or (math.isinf(v) and not allow_inf) or (
            bounds is not None and v not in bounds):
        raise _value_error(f"{where} must be {kind}{rule}{_of(unit)}, got {value!r}")
    return v


def check_integer(where: str, value, bounds: Bounds | None = None) -> int:
    """``value`` as an int if it is an integer (an integral float or a NumPy integer is
    fine; a bool or a string is an :class:`~neurosim_nb.errors.ArgumentTypeError`) within
    ``bounds`` (else an :class:`~neurosim_nb.errors.InvalidArgumentError`).

    >>> check_integer("PulseTrain.n_pulses", 3.0, AT_LEAST_ONE)
    3
    >>> check_integer("PulseTrain.n_pulses", float("nan"), AT_LEAST_ONE)
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: PulseTrain.n_pulses must be an integer >= 1, \
got nan
    """
    rule = f"an integer {bounds}" if bounds is not None else "an integer"
    if not is_number(value) or isinstance(value, np.bool_):
        raise _type_error(f"{where} must be {rule}, got {value!r}")
    if not is_integer(value) and not (isinstance(value, np.floating)
                                      and float(value).is_integer()):
        raise _value_error(f"{where} must be {rule}, got {value!r}")
    v = int(value)
    if bounds is not None and v not in bounds:
        raise _value_error(f"{where} must be {rule}, got {value!r}")
    return v


def check_array(where: str, value, *, ndims: tuple[int, ...] = (1,), length: int | None = None,
                bounds: Bounds | None = None, unit: str = "", what: str = "values",
                allow_empty: bool = True) -> np.ndarray:
    """``value`` (a sequence or array of real numbers) as a float64 array: an
    :class:`~neurosim_nb.errors.ArgumentTypeError` for elements that are not numbers
    (bools, strings, objects), an :class:`~neurosim_nb.errors.InvalidArgumentError` for a
    ragged sequence, a number of dimensions not in ``ndims``, a first dimension other than
    ``length`` (the message says the length expected: ``"3 values where 5 (one per
    neuron) are needed"`` with ``what="one per neuron"``), an empty array (unless
    ``allow_empty``), a NaN or infinity, or a value outside ``bounds``.

    >>> check_array("rates_hz", [1, 2.5]).tolist()
    [1.0, 2.5]
    >>> check_array("rates_hz", [1.0, 2.0], length=3, what="one per neuron")
    Traceback (most recent call last):
    ...
    neurosim_nb.errors.InvalidArgumentError: rates_hz has 2 values where 3 (one per neuron) \
are needed
    """
    if isinstance(value, str | bytes | bool | np.bool_) or is_number(value):
        if not (is_number(value) and not isinstance(value, np.bool_) and 0 in ndims):
            raise _type_error(f"{where} must be an array of numbers{_of(unit)}, got "
                              f"{value!r}")
    if isinstance(value, list | tuple) and _holds_bool(value):
        raise _type_error(f"{where} must hold numbers{_of(unit)}, not booleans")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise _value_error(f"{where} is a ragged sequence (rows of different lengths)"
                           ) from None
    if arr.dtype.kind not in "iuf" and not (arr.size == 0 and arr.dtype.kind in "OU"):
        raise _type_error(f"{where} must hold numbers{_of(unit)}, got dtype {arr.dtype}: "
                          f"{value!r:.80}")
    if arr.ndim not in ndims:
        allowed = " or ".join(f"{d}-D" for d in ndims)
        raise _value_error(f"{where} must be a {allowed} array, got shape {arr.shape}")
    if length is not None and arr.ndim and arr.shape[0] != length:
        raise _value_error(f"{where} has {arr.shape[0]} {'values' if arr.ndim == 1 else 'rows'}"
                           f" where {length} ({what}) are needed")
    if not allow_empty and arr.size == 0:
        raise _value_error(f"{where} must not be empty")
    try:
        arr = arr.astype(np.float64)
    except OverflowError:
        raise _value_error(f"{where} holds numbers beyond the float range") from None
    if not np.all(np.isfinite(arr)):
        raise _value_error(f"{where} must hold finite numbers{_of(unit)}")
    if bounds is not None and arr.size:
        bad = np.array([v not in bounds for v in (arr.min(), arr.max())])
        if bad.any():
            shown = arr.min() if bad[0] else arr.max()
            raise _value_error(f"{where} must hold numbers {bounds}{_of(unit)}, got "
                               f"{shown!r}")
    return arr


#: largest seed of a network, a run or a source: results keep their seeds in attributes
#: (``seed``, ``build_seed``), which NetCDF stores as 64-bit signed integers
MAX_SEED = 2**63 - 1


def check_seed(what: str, seed) -> int:
    """``seed`` as an int in 0 .. :data:`MAX_SEED`, or an ``ArgumentTypeError`` (not an
    integer; an integral float is one) / ``InvalidArgumentError`` naming ``what``.

    >>> check_seed("Network(seed=...)", 7.0)
    7
    """
    from neurosim_nb.errors import ArgumentTypeError, InvalidArgumentError

    if not is_integer(seed):
        raise ArgumentTypeError(f"{what} must be an integer >= 0 or None, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed <= MAX_SEED:
        raise InvalidArgumentError(f"{what} must be an integer in 0..{MAX_SEED} (2**63 - 1, "
                                   f"what NetCDF stores), got {seed!r}")
    return seed

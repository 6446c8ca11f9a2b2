"""Checks of JSON-like documents whose errors name the key path (``a.b[2].c: ...``).

One :class:`KeyPathChecker` per document kind (network specs, model configurations, run
configurations), each raising its own :class:`ValueError` subclass.

>>> class DocError(ValueError): ...
>>> check = KeyPathChecker(DocError)
>>> try:
...     check.keys("run", {"duraton": 1}, allowed=("duration", "dt"))
... except DocError as e:
...     print(e)
run.duraton: unknown key; allowed keys: duration, dt. Did you mean 'duration'?
"""

from __future__ import annotations

import difflib
import math
import numbers


class KeyPathChecker:
    """Validators raising ``error(f"{path}: {message}")``."""

    def __init__(self, error: type[ValueError]) -> None:
        self.error = error

    def fail(self, path: str, message: str) -> ValueError:
        """The exception (to ``raise``) for ``path``."""
        return self.error(f"{path}: {message}")

    @staticmethod
    def hint(value, choices) -> str:
        """`` Did you mean 'x'?`` for the closest of ``choices``, else ``""``."""
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        return f" Did you mean {close[0]!r}?" if close else ""

    @staticmethod
    def join(path: str, key) -> str:
        """``path.key`` (or ``key`` at the top)."""
        return f"{path}.{key}" if path else str(key)

    def mapping(self, path: str, value) -> dict:
        """``value`` if it is a dict (a JSON object)."""
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping (JSON object), got "
                                  f"{type(value).__name__}")
        return value

    def keys(self, path: str, value: dict, allowed, required=()) -> None:
        """Refuse keys outside ``allowed`` (with a did-you-mean hint) and missing ``required``."""
        for key in value:
            if key not in allowed:
                raise self.fail(self.join(path, key), f"unknown key; allowed keys: "
                                f"{', '.join(allowed)}.{self.hint(key, allowed)}")
        for key in required:
            if key not in value:
                raise self.fail(self.join(path, key), "required key is missing")

    def string(self, path: str, value) -> str:
        """``value`` if it is a string."""
        if not isinstance(value, str):
            raise self.fail(path, f"{value!r} must be a string")
        return value

    def integer(self, path: str, value, minimum: int | None = None) -> int:
        """``value`` as an int (bools refused), at least ``minimum``."""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise self.fail(path, f"{value!r} must be an integer")
        if minimum is not None and value < minimum:
            raise self.fail(path, f"{value!r} must be an integer >= {minimum}")
        return int(value)

    def real(self, path: str, value, lo: float = -math.inf, hi: float = math.inf):
        """``value`` if it is a finite number in ``[lo, hi]`` (bools refused), as given."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(
                value):
            raise self.fail(path, f"{value!r} must be a finite number")
        if not lo <= value <= hi:
            raise self.fail(path, f"{value!r} must be in [{lo:g}, {hi:g}]")
        return value

    def kind(self, path: str, spec: dict, table: dict, what: str = "type"):
        """The entry of ``table`` named by ``spec["type"]`` (required, a known name)."""
        if "type" not in spec:
            raise self.fail(f"{path}.type", f"required key is missing; one of {list(table)}")
        name = self.string(f"{path}.type", spec["type"])
        if name not in table:
            raise self.fail(f"{path}.type", f"unknown {what} {name!r}; choose from "
                                            f"{list(table)}.{self.hint(name, table)}")
        return table[name]

    def list(self, path: str, value) -> list:
        """``value`` if it is a list (a JSON array)."""
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {type(value).__name__}")
        return value

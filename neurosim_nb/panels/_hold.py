"""Holding a panel's reactions while it changes its own widgets."""

from __future__ import annotations

from contextlib import contextmanager


class HoldsUpdates:
    """Mix-in: inside ``with self._hold():`` the panel's widget handlers see
    ``self._hold_depth > 0`` and do not re-simulate (nested holds count).

    >>> class Panel(HoldsUpdates):
    ...     pass
    >>> p = Panel()
    >>> with p._hold():
    ...     with p._hold():
    ...         inner = p._hold_depth
    >>> inner, p._hold_depth
    (2, 0)
    """

    _hold_depth: int = 0

    @contextmanager
    def _hold(self):
        """Programmatic widget changes inside this block do not re-simulate."""
        self._hold_depth += 1
        try:
            yield
        finally:
            self._hold_depth -= 1

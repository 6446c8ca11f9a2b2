"""The package's error and warning types: one base, so ``except NeurosimError`` catches them all.

Every refusal at a public entry point raises a subclass of :class:`NeurosimError` that is
also the built-in a caller already expects -- a wrong value is a :class:`ValueError`, a wrong
type a :class:`TypeError`, a failed read or write an :class:`OSError` -- and its message
names the argument, the value it got and what is allowed::

    LIFNeuron.n must be an integer >= 1, got nan

The modules' own errors (``SpecError``, ``ConfigError``, ``ExportError``, ``FitError``, ...)
derive from these. This module imports nothing from neurosim_nb (every layer may use it).

>>> try:
...     raise InvalidArgumentError("dt must be a number > 0 (ms), got -1")
... except ValueError as err:
...     print(type(err).__name__, isinstance(err, NeurosimError))
InvalidArgumentError True
>>> issubclass(ArgumentTypeError, TypeError), issubclass(TooLargeError, ValueError)
(True, True)
"""

from __future__ import annotations

__all__ = ["NeurosimError", "InvalidArgumentError", "ArgumentTypeError", "TooLargeError",
           "NumericalAccuracyWarning"]


class NeurosimError(Exception):
    """Base of every error neurosim_nb raises on purpose."""


class InvalidArgumentError(NeurosimError, ValueError):
    """An argument of the right type with a value that is not allowed (out of range, not
    finite, wrong shape, an unknown name)."""


class ArgumentTypeError(NeurosimError, TypeError):
    """An argument of a type that is not allowed (a string where a number belongs, a bool
    where a count belongs)."""


class TooLargeError(NeurosimError, ValueError):
    """A size asked for by a user or declared by a file would need more memory than allowed;
    refused before anything is allocated. The message says how much and what to change."""


class NumericalAccuracyWarning(UserWarning):
    """A run whose result is probably not what the model would give with a suitable step
    or input (a step too long for the model's accuracy, an input saturating the neuron)."""

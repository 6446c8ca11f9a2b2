"""What single-model panels share: the family / preset choice and parameter controls.

:class:`ModelChoicePanel` is a mix-in for panels with ``family_dropdown``,
``preset_dropdown``, ``params_box`` and ``controls`` (the parameter widgets generated from
the preset's metadata) whose ``_on_value`` re-simulates unless inside :meth:`_hold`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from neurosim_nb.core.neurons import model_class
from neurosim_nb.panels._background import EXPECTED_ERRORS
from neurosim_nb.panels._hold import HoldsUpdates
from neurosim_nb.panels._status import rejected_html
from neurosim_nb.panels.controls import params_from_widgets, widgets_from_params
from neurosim_nb.params import ParameterSet


class ModelChoicePanel(HoldsUpdates):
    """Family / preset selection and generated parameter controls (a mix-in)."""

    family_dropdown: W.Dropdown
    preset_dropdown: W.Dropdown
    params_box: W.Box
    controls: dict[str, W.ValueWidget]

    def _make_model_widgets(self, families: list[str], family: str, *, preset_width: str,
                            reset_tooltip: str) -> None:
        """The family and preset dropdowns and the reset button (presets filled later)."""
        style = {"description_width": "70px"}
        self.family_dropdown = W.Dropdown(options=families, value=family, description="Model",
                                          style=style, layout=W.Layout(width="240px"))
        self.preset_dropdown = W.Dropdown(options=[], description="Preset", style=style,
                                          layout=W.Layout(width=preset_width))
        self.reset_button = W.Button(description="Reset parameters", tooltip=reset_tooltip,
                                     layout=W.Layout(width="150px"))

    @property
    def family(self) -> str:
        """The selected model family."""
        return self.family_dropdown.value

    @property
    def preset(self) -> str:
        """The selected preset of the family."""
        return self.preset_dropdown.value

    @property
    def model_class(self) -> type:
        """The population class of the selected family."""
        return model_class(self.family)

    def _select(self, family: str, preset: str | None) -> str:
        """Set the dropdowns to ``family`` / ``preset`` (default its first); return the preset.

        Call inside :meth:`_hold`. Raises :class:`ValueError` for an unknown preset.
        """
        presets = model_class(family).presets()
        preset = preset if preset is not None else next(iter(presets))
        if preset not in presets:
            raise ValueError(f"unknown {family} preset {preset!r}; choose from {list(presets)}")
        self.family_dropdown.value = family
        if list(self.preset_dropdown.options) != list(presets):
            self.preset_dropdown.options = list(presets)
        self.preset_dropdown.value = preset
        return preset

    def _rebuild_controls(self, base: ParameterSet) -> None:
        """Replace the parameter widgets by ones generated from ``base``."""
        self._base = base
        for w in self.controls.values():
            w.close()
        self.controls = widgets_from_params(base)
        for w in self.controls.values():
            w.observe(self._on_value, names="value")
        self.params_box.children = list(self.controls.values())

    def _attempt(self, compute: Callable[[ParameterSet], Any]) -> tuple[ParameterSet, Any] | None:
        """Read the parameter widgets and run ``compute(params)``.

        On one of :data:`EXPECTED_ERRORS` the message goes to :attr:`error` and the status
        line, and ``None`` is returned (the last valid result stays on screen); otherwise
        :attr:`error` is cleared, :attr:`n_runs` counted, :attr:`last_run_s` timed and
        ``(params, compute's value)`` returned.
        """
        t0 = time.perf_counter()
        try:
            params = params_from_widgets(self._base, self.controls)
            value = compute(params)
        except EXPECTED_ERRORS as exc:
            self.error = str(exc)
            self.status.value = rejected_html(self.error, kept=self.result is not None)
            return None
        self.last_run_s = time.perf_counter() - t0
        self.error = None
        self.n_runs += 1
        return params, value

    def _on_value(self, change: dict) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

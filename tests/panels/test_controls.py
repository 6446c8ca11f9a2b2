"""Generated controls: a browser slider snaps to its grid, so every value must lie on it."""

from __future__ import annotations

import math

import ipywidgets as W
import pytest

from neurosim_nb.core.neurons import MODEL_FAMILIES, model_class
from neurosim_nb.panels.controls import params_from_widgets, widgets_from_params


def snapped(w: W.Widget) -> float:
    """The value a browser slider shows (and may send back) after snapping to its grid."""
    if isinstance(w, W.FloatLogSlider):
        k = round((math.log10(w.value) - w.min) / w.step)
        return w.base ** (w.min + k * w.step)
    k = round((w.value - w.min) / w.step)
    return w.min + k * w.step


@pytest.mark.parametrize("family", list(MODEL_FAMILIES))
def test_every_preset_value_lies_on_its_slider_grid(family):
    # before the fix, tau_m = 20 ms sat on a log grid from 10^-1 in steps of 0.01 (the page
    # showed 10^1.30 = 19.95 ms) and HH's E_L = -54.387 mV on a 0.5 mV grid from -120 mV
    for name, params in model_class(family).presets().items():
        for field, w in widgets_from_params(params).items():
            if isinstance(w, W.FloatSlider | W.FloatLogSlider):
                assert snapped(w) == pytest.approx(w.value, rel=1e-9, abs=1e-12), (
                    family, name, field, w.value, snapped(w))


def test_a_value_sent_back_a_few_ulp_off_leaves_the_parameter_exact():
    base = model_class("LIF").presets()["excitatory"]
    widgets = widgets_from_params(base)
    widgets["tau_m"].value = math.nextafter(base.tau_m, math.inf)   # 10**x in the browser
    assert params_from_widgets(base, widgets).tau_m == base.tau_m
    widgets["tau_m"].value = base.tau_m * 1.01                      # a real change stays
    assert params_from_widgets(base, widgets).tau_m == pytest.approx(base.tau_m * 1.01)

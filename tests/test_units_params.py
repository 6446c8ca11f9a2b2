"""The unit set and the parameter machinery (metadata, validation, JSON)."""

import json

import numpy as np
import pytest

from neurosim_nb import units
from neurosim_nb.core.neurons.lif import LIFParameters
from neurosim_nb.params import ParameterSet, param, parameters


def test_coherent_unit_identities_in_si():
    # each identity of the unit table, checked in SI: the library needs no conversion factors
    uS, mV, nA, nF, ms, MOhm = 1e-6, 1e-3, 1e-9, 1e-9, 1e-3, 1e6
    assert uS * mV == pytest.approx(nA)
    assert nF * mV / ms == pytest.approx(nA)
    assert MOhm * nA == pytest.approx(mV)
    assert MOhm * nF == pytest.approx(ms)


def test_density_conversion_against_hand_computation():
    # 10 uA/cm2 on 20 000 um2 = 2e-4 cm2 -> 2e-3 uA = 2 nA
    assert units.density_to_current(10.0, area_um2=20_000.0) == pytest.approx(2.0)
    x = np.array([1.0, -3.5, 0.0])
    np.testing.assert_allclose(
        units.current_to_density(units.density_to_current(x, 1234.0), 1234.0), x)
    with pytest.raises(ValueError, match="area_um2"):
        units.density_to_current(1.0, area_um2=0.0)


@parameters
class Demo(ParameterSet):
    tau: float = param(10.0, "ms", (0.1, 100.0), "time constant")
    kind: str = param("a", "1", None, "a choice", choices=("a", "b"))
    opt: float | None = param(None, "mV", (-10.0, 10.0), "optional", optional=True)


def test_field_info_carries_unit_bounds_doc():
    info = LIFParameters.field_info()
    assert info["tau_m"]["unit"] == "ms" and info["tau_m"]["bounds"] == (0.1, 1000.0)
    assert info["V_threshold"]["doc"] == "spike threshold"
    assert set(info) >= {"tau_m", "V_rest", "V_threshold", "V_reset", "t_refractory", "R_m", "C_m"}


def test_choices_optional_and_arrays_validate():
    assert Demo(kind="b").kind == "b"
    with pytest.raises(ValueError, match=r"Demo.kind = 'c' is not one of \['a', 'b'\]"):
        Demo(kind="c")
    assert Demo().opt is None
    with pytest.raises(ValueError, match="Demo.opt"):
        Demo(opt=20.0)
    d = Demo(tau=[1.0, 2.0])
    assert isinstance(d.tau, np.ndarray)
    with pytest.raises(ValueError, match=r"Demo.tau = 200.0 ms is outside"):
        Demo(tau=[1.0, 200.0])
    with pytest.raises(TypeError, match="not a number"):  # a string is a wrong type
        Demo(tau="fast")
    with pytest.raises(ValueError, match="1-D"):
        Demo(tau=np.ones((2, 2)))


def test_frozen_equality_and_replace():
    p = LIFParameters()
    with pytest.raises(AttributeError):
        p.tau_m = 5.0  # frozen: change with replace()
    q = p.replace(tau_m=20.0)
    assert q.tau_m == 20.0 and p.tau_m == 10.0 and q != p
    assert p == LIFParameters()
    assert Demo(tau=[1.0, 2.0]) == Demo(tau=[1.0, 2.0])


def test_json_has_values_and_units():
    payload = json.loads(LIFParameters(tau_m=12.0).to_json())
    assert payload["class"] == "LIFParameters"
    assert payload["values"]["tau_m"] == 12.0 and payload["units"]["tau_m"] == "ms"
    assert "tau_m=12.0 ms" in repr(LIFParameters(tau_m=12.0))

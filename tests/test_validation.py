"""The one validator of JSON-like input (``neurosim_nb._validation``) and its use by every
document kind: network specs, model configurations, run configurations, Dataset files."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neurosim_nb._validation import (
    AT_LEAST_ONE,
    FRACTION,
    MAX_DEPTH,
    NON_NEGATIVE,
    POSITIVE,
    PROBABILITY,
    Bounds,
    Checker,
    Field,
    SentenceChecker,
    closest,
    is_integer,
    is_number,
    parse_json,
)


class DocError(ValueError):
    pass


CHECK = Checker(DocError)
SENTENCE = SentenceChecker(DocError)


def message(func, *args, **kwargs) -> str:
    with pytest.raises(DocError) as info:
        func(*args, **kwargs)
    return str(info.value)


def nested(depth: int):
    """A list nested ``depth`` levels deep (built without recursion)."""
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


# -- numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [True, False, "3", None, [3], {"n": 3}, 2.5, math.nan])
def test_integer_refuses_non_integers_and_bools(value):
    assert message(CHECK.integer, "a.n", value) == f"a.n: {value!r} must be an integer"


def test_integer_accepts_integral_floats_and_numpy_integers():
    assert CHECK.integer("n", 3.0) == 3 and type(CHECK.integer("n", 3.0)) is int
    assert CHECK.integer("n", np.int64(4)) == 4
    assert CHECK.integer("n", 7, AT_LEAST_ONE) == 7
    assert message(CHECK.integer, "network.populations[2].n", -3, AT_LEAST_ONE) == (
        "network.populations[2].n: -3 must be an integer >= 1")
    assert message(SENTENCE.integer, "n_layers", 0, POSITIVE) == (
        "n_layers must be an integer > 0, got 0")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan")])
def test_numbers_must_be_finite(value):
    assert message(CHECK.number, "w", value) == f"w: {value!r} must be a finite number"
    assert message(SENTENCE.number, "dt", value, unit="ms") == (
        f"dt must be a number (ms), got {value!r}")


@pytest.mark.parametrize("value", [True, False, "1.0", None, [1.0]])
def test_bools_and_strings_are_not_numbers(value):
    assert not is_number(value)
    assert message(CHECK.number, "w", value) == f"w: {value!r} must be a finite number"


def test_numbers_keep_their_type_and_check_bounds():
    assert type(CHECK.number("x", 3)) is int and CHECK.number("x", 0.5, PROBABILITY) == 0.5
    assert message(CHECK.number, "p", 1.5, PROBABILITY) == "p: 1.5 must be in [0, 1]"
    assert message(CHECK.number, "f", 0.0, FRACTION) == "f: 0.0 must be in (0, 1]"
    assert message(SENTENCE.number, "--dt", -1.0, POSITIVE, "ms") == (
        "--dt must be > 0 (ms), got -1.0")
    assert message(CHECK.number, "g", -0.1, NON_NEGATIVE) == "g: -0.1 must be >= 0"
    assert str(Bounds(hi=5, open_hi=True)) == "< 5" and 4.9 in Bounds(hi=5, open_hi=True)
    assert 5 not in Bounds(hi=5, open_hi=True) and 5 in Bounds(hi=5)


def test_predicates():
    assert is_integer(2) and is_integer(2.0) and not is_integer(True) and not is_integer(2.5)
    assert is_number(np.float32(1)) and not is_number(np.bool_(True)) and not is_number("1")


# -- keys and names ----------------------------------------------------------------------------
def test_unknown_keys_suggest_the_closest():
    assert message(CHECK.keys, "run", {"duraton": 1}, ("duration", "dt")) == (
        "run.duraton: unknown key; allowed keys: duration, dt. Did you mean 'duration'?")
    assert message(CHECK.keys, "", {"zzz": 1}, ("duration", "dt")) == (
        "zzz: unknown key; allowed keys: duration, dt.")
    assert message(CHECK.keys, "run", {"dt": 1}, ("duration", "dt"), required=("duration",)) == (
        "run.duration: required key is missing")
    paths = ["duration", "inputs.amplitude", "inputs.rate"]
    assert message(SENTENCE.keys, "inputs", {"amplitud": 1}, ("amplitude", "rate"),
                   paths=paths) == ("unknown key 'inputs.amplitud' (did you mean "
                                    "'inputs.amplitude'?)")
    # a known key in the wrong object
    assert message(SENTENCE.keys, "", {"amplitude": 1}, ("duration",), paths=paths) == (
        "unknown key 'amplitude' (did you mean 'inputs.amplitude'?)")
    assert message(SENTENCE.keys, "", {"zzz": 1}, ("duration",), paths=paths) == (
        "unknown key 'zzz'; known keys: duration")
    assert closest("xyz", ["abc"]) is None


def test_choices_and_kinds():
    assert CHECK.choice("m", "LIF", ("LIF", "AdEx")) == "LIF"
    assert message(CHECK.choice, "m", "LIFF", ("LIF", "AdEx"), "model") == (
        "m: unknown model 'LIFF'; choose from LIF, AdEx. Did you mean 'LIF'?")
    assert message(CHECK.choice, "m", 3, ("LIF",)) == "m: 3 must be a string"
    assert message(SENTENCE.choice, "output.format", "jsn", ("json", "csv")) == (
        "output.format must be one of json, csv; got 'jsn' (did you mean 'json'?)")
    table = {"A": 1, "B": 2}
    assert CHECK.kind("s[0]", {"type": "B"}, table) == 2
    assert message(CHECK.kind, "s[0]", {}, table) == "s[0].type: required key is missing"


# -- structure ---------------------------------------------------------------------------------
def test_containers_and_their_paths():
    assert message(CHECK.mapping, "a.params", [1]) == (
        "a.params: expected a mapping (JSON object), got list")
    assert message(CHECK.list, "projections", {}) == "projections: expected a list, got dict"
    assert message(lambda: list(CHECK.entries("p", [{}, 3]))) == (
        "p[1]: expected a mapping (JSON object), got int")
    assert [(w, k) for w, k, _ in CHECK.members("pops", {"E": 1, "I": 2})] == [
        ("pops.E", "E"), ("pops.I", "I")]
    assert CHECK.layer_map("names", {"1": "L1", "2": "L2"}) == {1: "L1", 2: "L2"}
    assert message(CHECK.layer_map, "names", {"x": "L1"}) == "names.x: keys must be layer numbers"
    assert CHECK.strings("vars", "V") == ["V"]
    assert message(CHECK.strings, "vars", ["V", 3]) == "vars[1]: 3 must be a string"
    assert message(CHECK.boolean, "autapses", "no") == "autapses: 'no' must be true or false"
    assert SENTENCE.field("record", ["V"], Field("strings")) == ("V",)
    assert SENTENCE.field("seed", 4.0, Field("integer", NON_NEGATIVE)) == 4
    assert message(SENTENCE.field, "output", [], Field("mapping")) == (
        "output must be a mapping (JSON object), got list")


def test_arrays():
    np.testing.assert_array_equal(CHECK.array("w", [1, 2.5], "f", length=2), [1.0, 2.5])
    assert CHECK.array("i", [], "i").dtype == np.int64
    assert message(CHECK.array, "w", [1.0, math.nan], "f") == "w: values must be finite"
    assert message(CHECK.array, "w", [1.0, "x"], "f") == "w: must be a list of numbers"
    assert message(CHECK.array, "w", [True, 1], "i") == "w: must be a list of integers"
    assert message(CHECK.array, "w", [[1.5], [False]], "f") == "w: must be a list of numbers"
    assert message(CHECK.array, "w", [1.0, 2.0], "b") == "w: must be a list of true/false values"
    assert message(CHECK.array, "w", [[1], [1, 2]], "f") == (
        "w: a ragged nested list (rows of different lengths)")
    assert message(CHECK.array, "w", [1.0], "f", length=3) == "w: 1 values where 3 are needed"
    assert message(CHECK.array, "w", [[1.0]], "f") == (
        "w: expected a 1-dimensional list, got 2 dimensions")
    assert message(CHECK.indices, "t", [0, 5], 4, of="E") == "t: indices must be in 0..3 (E)"


def test_call_turns_constructor_errors_into_path_errors():
    def build(x):
        raise ValueError(f"x = {x} is outside")

    assert message(CHECK.call, "a.params", build, 3) == "a.params: x = 3 is outside"
    with pytest.raises(KeyError):
        CHECK.call("a", {}.__getitem__, "k")


# -- nesting ---------------------------------------------------------------------------------
def test_excessive_nesting_is_a_clear_error_not_a_recursion_error():
    ok = nested(MAX_DEPTH)
    assert CHECK.document(ok) is ok
    too_deep = {"a": [nested(MAX_DEPTH)]}
    msg = message(CHECK.document, too_deep)
    assert msg.startswith("a[0]") and msg.endswith(f": nested deeper than {MAX_DEPTH} levels")
    assert message(CHECK.document, nested(100_000), "spec").endswith("levels")
    loop: dict = {"x": 1}
    loop["self"] = loop  # holds itself: infinitely deep
    assert message(CHECK.document, loop).startswith("self.self.self")
    assert message(Checker(DocError, max_depth=2).document, {"a": {"b": {"c": {}}}}) == (
        "a.b.c: nested deeper than 2 levels")


def test_parse_json_is_strict_and_never_recurses_out():
    assert parse_json('{"a": [1, 2.5, null, true]}') == {"a": [1, 2.5, None, True]}
    for text in ('{"a": NaN}', "[Infinity]", "[-Infinity]"):
        with pytest.raises(ValueError, match="is not valid JSON"):
            parse_json(text)
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json("[" * 200_000 + "]" * 200_000)


# -- every document kind uses it -------------------------------------------------------------
def test_every_document_kind_refuses_deep_nesting(tmp_path):
    from neurosim_nb.core.networks.spec import SpecError, validate_spec
    from neurosim_nb.export._atomic import ExportError
    from neurosim_nb.export.config import ModelConfigError, load_model_json
    from neurosim_nb.export.formats import load_json
    from neurosim_nb.export.run_config import ConfigError, load_run_config, run_config_from_dict

    deep = nested(10_000)
    spec = {"populations": {"E": {"model": "LIF", "n": 2}},
            "projections": [{"pre": "E", "post": "E", "rule": "all_to_all",
                             "weight": {"dist": deep}}]}
    with pytest.raises(SpecError, match=r"^projections\[0\]\.weight\.dist(\[0\])+: nested"):
        validate_spec(spec)
    with pytest.raises(ModelConfigError, match="nested deeper than"):
        load_model_json({"format": "neurosim_nb.model", "version": 1, "kind": "network",
                         "model": {"attributes": {"brunel": deep}}})
    with pytest.raises(ConfigError, match=r"^sim\.json: description(\[0\])+: nested"):
        run_config_from_dict({"description": deep}, source="sim.json")
    text = '{"description": ' + "[" * 100_000 + "]" * 100_000 + "}"
    for name, load, error in (("run.json", load_run_config, ConfigError),
                              ("model.json", load_model_json, ExportError),
                              ("data.json", load_json, ExportError)):
        (tmp_path / name).write_text(text)
        with pytest.raises(error, match="nested too deeply"):
            load(tmp_path / name)


def test_run_config_values_are_checked_alike():
    from neurosim_nb.export.run_config import ConfigError, run_config_from_dict

    cfg = run_config_from_dict({"n_layers": 4.0, "record": "V", "duration": 100})
    assert (cfg.n_layers, cfg.record, cfg.duration) == (4, ("V",), 100.0)
    for data, text in [({"dt": math.nan}, "dt must be a number (ms), got nan"),
                       ({"seed": True}, "seed must be an integer, got True"),
                       ({"n_neurons": -3}, "n_neurons must be an integer > 0, got -3"),
                       ({"inputs": []}, "inputs must be a mapping (JSON object), got list"),
                       ({"output": {"format": "csv"}}, "output.filename is required")]:
        with pytest.raises(ConfigError) as info:
            run_config_from_dict(data, source="c.json")
        assert str(info.value) == f"c.json: {text}"


def test_dataset_descriptions_name_the_key_path():
    import xarray as xr

    from neurosim_nb.export.formats import dataset_from_dict, dataset_to_dict

    d = json.loads(json.dumps(dataset_to_dict(xr.Dataset({"V": ("time", [1.0, 2.0])}))))
    del d["data_vars"]["V"]["dtype"]
    with pytest.raises(ValueError, match=r"description: data_vars\.V\.dtype: required key"):
        dataset_from_dict(d)
    d["data_vars"]["V"] = {"dims": ["time"], "dtype": "float64", "shape": [2], "data": [1, 2],
                           "attrs": {}, "colour": "red"}
    with pytest.raises(ValueError, match=r"data_vars\.V\.colour: unknown key"):
        dataset_from_dict(d)

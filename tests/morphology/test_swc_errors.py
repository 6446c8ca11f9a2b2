"""Every malformed SWC file is refused with an SWCError that names the offending line.

The line numbers count every line of the file from 1, comments and blank lines included;
the expected number is the line each case was written to break.
"""

from __future__ import annotations

import pytest

from neurosim_nb.morphology import SWCError, load_swc

HEADER = "# test file\n\n"          # lines 1-2: the first data row is line 3
GOOD = ["1 1 0 0 0 5 -1", "2 3 0 5 0 1 1", "3 3 0 20 0 1 2", "4 3 10 20 0 0.5 3"]


def swc(*rows: str) -> str:
    return HEADER + "\n".join(rows) + "\n"


CASES = {
    # name: (text, line, words in the message)
    "wrong column count": (swc(GOOD[0], "2 3 0 5 0 1", *GOOD[2:]), 4, "7 columns"),
    "extra column": (swc(*GOOD[:3], "4 3 10 20 0 0.5 3 9"), 6, "7 columns"),
    "non-numeric x": (swc(GOOD[0], GOOD[1], "3 3 zero 20 0 1 2", GOOD[3]), 5, "x 'zero'"),
    "non-numeric id": (swc(GOOD[0], "two 3 0 5 0 1 1"), 4, "id 'two'"),
    "non-integer parent": (swc(GOOD[0], "2 3 0 5 0 1 1.5"), 4, "not an integer"),
    "nan radius": (swc(GOOD[0], "2 3 0 5 0 nan 1"), 4, "not finite"),
    "zero radius": (swc(GOOD[0], GOOD[1], "3 3 0 20 0 0 2"), 5, "radius"),
    "negative radius": (swc(*GOOD[:3], "4 3 10 20 0 -0.5 3"), 6, "radius"),
    "unknown type code": (swc(GOOD[0], "2 9 0 5 0 1 1"), 4, "unknown type code 9"),
    "duplicate id": (swc(*GOOD[:3], "2 3 10 20 0 0.5 3"), 6, "duplicate id 2"),
    "parent not found": (swc(*GOOD[:3], "4 3 10 20 0 0.5 7"), 6, "parent id 7 not found"),
    "multiple roots": (swc(*GOOD[:2], "3 3 0 20 0 1 -1"), 5, "second root"),
    "missing root": (swc("1 1 0 0 0 5 2", "2 3 0 5 0 1 1"), 3, "no root"),
    "own parent": (swc(GOOD[0], "2 3 0 5 0 1 2"), 4, "own parent"),
    "cycle": (swc(GOOD[0], "2 3 0 5 0 1 1", "3 3 0 9 0 1 4", "4 3 0 9 0 1 3"), 5, "cycle"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_file_names_the_line(name):
    text, line, words = CASES[name]
    with pytest.raises(SWCError) as info:
        load_swc(text)
    err = info.value
    assert err.line == line, str(err)
    assert err.text == text.splitlines()[line - 1].strip()
    assert words in str(err)
    assert f"line {line}:" in str(err)
    assert isinstance(err, ValueError)


def test_the_good_file_loads_and_extra_types_are_accepted():
    m = load_swc(swc(*GOOD))
    assert [s.name for s in m.sections] == ["soma[0]", "dend[0]"]
    m = load_swc(swc(GOOD[0], "2 9 0 5 0 1 1", "3 9 0 9 0 1 2"), types={9: "glia"})
    assert m.sections[1].type == "glia" and m.sections[1].name == "dend_9[0]"


def test_codes_0_to_7_are_accepted_with_their_names():
    rows = [GOOD[0]] + [f"{c + 2} {c} {c} 5 0 1 1" for c in (0, 2, 3, 4, 5, 6, 7)]
    # each row is a one-point stem at a different place: NEURON keeps it (soma centre to
    # the point), as a two-point section
    m = load_swc(swc(*rows))
    assert sorted(s.type for s in m.sections[1:]) == sorted(
        ["undefined", "axon", "basal", "apical", "fork_point", "end_point", "custom"])


def test_an_empty_file_and_a_bad_soma_option_are_refused():
    with pytest.raises(SWCError, match="no data rows"):
        load_swc("# only a comment\n\n")
    with pytest.raises(ValueError, match="soma must be 'neuron'"):
        load_swc(swc(*GOOD), soma="sphere")
    with pytest.raises(TypeError, match="path_or_text"):
        load_swc(42)


def test_a_zero_length_section_is_refused_by_discretise_not_divided_by_zero():
    from neurosim_nb.morphology import discretise
    m = load_swc(swc(GOOD[0], "2 3 0 5 0 1 1", "3 3 0 5 0 1 2", "4 3 0 5 0 1 3"))
    assert m.sections[1].length_um == 0.0     # three coincident points: NEURON keeps it
    with pytest.raises(ValueError, match="zero length"):
        discretise(m)

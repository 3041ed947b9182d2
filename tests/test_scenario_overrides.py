"""`--set dotted.path=VALUE` overrides: list items by id, values as YAML, errors at the text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketsim.plugins.prepare import load_scenario, scenario_from_text
from marketsim.scenario import ScenarioError
from marketsim.scenario.resources import MEMORY_LIMIT_ENV

B2C = Path(__file__).parent / "contract" / "minimal-b2c.yaml"
TEXT = B2C.read_text()


def problems(*overrides: str, text: str = TEXT) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, "s.yaml", overrides)
    return [str(p) for p in info.value.problems]


def test_overrides_address_list_items_by_id():
    scenario = load_scenario(
        B2C,
        [
            "channels.tv.budget=90000",
            "segments.consumers.size=1000",
            "segments.consumers.network={type: random, degree: 4}",
            "description='launch plan: spring'",
        ],
    )
    assert scenario.channels[0].budget == 90000
    assert scenario.segments[0].size == 1000
    assert scenario.segments[0].network.type == "random"
    assert scenario.segments[0].network.degree == 4
    assert scenario.description == "launch plan: spring"
    assert load_scenario(B2C) == scenario_from_text(TEXT)  # the file itself is untouched


def test_override_may_create_a_missing_leaf_key():
    scenario = scenario_from_text(TEXT, overrides=["channels.tv.end=10", "channels.tv.start=2"])
    assert (scenario.channels[0].start, scenario.channels[0].end) == (2, 10)


def test_later_overrides_win_and_may_index_plain_lists():
    ones = "[" + ", ".join(["1"] * 52) + "]"
    scenario = scenario_from_text(
        TEXT,
        overrides=[
            "channels.tv.budget=1",
            "channels.tv.budget=2",
            f"channels.search.schedule={ones}",
            "channels.search.schedule.3=0",
        ],
    )
    assert scenario.channels[0].budget == 2
    assert scenario.channels[1].schedule[2:5] == [1, 0, 1]


def test_an_empty_value_is_null():
    base = scenario_from_text(TEXT, overrides=["channels.tv.end=10"])
    assert base.channels[0].end == 10
    assert (
        scenario_from_text(TEXT, overrides=["channels.tv.end=10", "channels.tv.end="])
        .channels[0]
        .end
        is None
    )


BAD = [
    # (id, override, expected prefix, words in the message)
    ("no-equals", "channels.tv.budget", "--set:1:1: ", ["expected dotted.path=VALUE"]),
    ("empty-path", "=5", "--set:1:1: ", ["expected a dotted path before '='"]),
    ("empty-part", "channels..budget=5", "--set:1:10: channels.: ", ["between the dots"]),
    (
        "unknown-id",
        "channels.tvv.budget=5",
        "--set:1:10: channels.tvv: ",
        ["expected the id of an item, one of 'tv', 'search'", "did you mean 'tv'?"],
    ),
    (
        "new-id-is-not-created",
        "channels.radio=5",
        "--set:1:10: channels.radio: ",
        ["expected the id of an item", "found 'radio'"],
    ),
    (
        "index-out-of-range",
        "channels.7.budget=5",
        "--set:1:10: channels.7: ",
        ["found '7'"],
    ),
    (
        "misspelt-section",
        "chanels.tv.budget=5",
        "--set:1:1: chanels: ",
        ["unknown key 'chanels'", "did you mean 'channels'?"],
    ),
    (
        "into-a-scalar",
        "channels.tv.budget.max=5",
        "--set:1:20: channels.tv.budget.max: ",
        ["expected a mapping or list to look up 'max' in, found 150000"],
    ),
    ("bad-yaml", "name=[oops", "--set:1:11: name: ", ["invalid YAML"]),
    ("bad-tag", "name=!!python/name:os.system", "--set:1:6: name: ", ["unsupported YAML tag"]),
    (
        "invalid-value",
        "channels.tv.budget=-5",
        "--set:1:20: channels.tv.budget: expected a number >= 0, found -5",
        [],
    ),
    (
        "unknown-leaf-key",
        "channels.tv.budjet=5",
        "--set:1:13: channels.tv.budjet: ",
        ["unknown key 'budjet'", "did you mean 'budget'?"],
    ),
    (
        "misspelt-reference",
        "channels.tv.targets=[consumer]",
        "--set:1:22: channels.tv.targets.0: ",
        ["found 'consumer'", "did you mean 'consumers'?"],
    ),
    (
        "inside-a-mapping-value",
        "segments.consumers.network={type: random, degree: -2}",
        "--set:1:51: segments.consumers.network.degree: ",
        ["expected an integer >= 0 and <= 1000, found -2"],
    ),
]


@pytest.mark.parametrize(
    ("override", "prefix", "words"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_override_is_located_in_the_set_text(override, prefix, words):
    found = problems(override)
    assert len(found) == 1
    assert found[0].startswith(prefix)
    for word in words:
        assert word in found[0]


def test_override_n_is_line_n_of_the_set_source():
    found = problems("channels.tv.budget=1", "channels.tvv.budget=2", "nonsense")
    assert [p.split(": ")[:2] for p in found] == [
        ["--set:2:10", "channels.tvv"],
        ["--set:3:1", "expected dotted.path=VALUE, found 'nonsense'"],
    ]


def test_file_and_override_problems_are_reported_together():
    text = TEXT.replace("price: 40.0", "price: -40.0")
    found = problems("channels.tv.budget=-5", text=text)
    assert [p.split(": ")[0] for p in found] == ["s.yaml:9:12", "--set:1:20"]


def test_overridden_size_too_large_for_memory(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, str(10**9))
    found = problems("segments.consumers.size=1000000000")
    assert found[0].startswith("--set:1:25: segments.consumers.size: ")
    assert "1.0 GB available" in found[0]


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_any_valid_budget_round_trips(budget):
    scenario = scenario_from_text(TEXT, overrides=[f"channels.tv.budget={budget!r}"])
    assert scenario.channels[0].budget == budget


@given(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))
def test_any_negative_budget_is_refused_at_the_set_text(budget):
    (found,) = problems(f"channels.tv.budget={budget!r}")
    assert found.startswith("--set:1:20: channels.tv.budget: expected a number >= 0, found ")


def test_set_can_fill_in_a_section_the_file_leaves_out():
    scenario = load_scenario(B2C, ["sales.inside.count=3", "optimize.bounds.tv.min=1000"])
    assert scenario.sales.inside.count == 3
    assert scenario.optimize.bounds["tv"].min == 1000


def test_a_misspelt_key_in_a_new_section_is_located_in_the_override():
    with pytest.raises(ScenarioError) as info:
        load_scenario(B2C, ["sales.insde.count=3"])
    assert str(info.value) == (
        "--set:1:7: sales.insde: unknown key 'insde', did you mean 'inside'?"
    )

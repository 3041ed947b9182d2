"""docs/calibrate.md's starting values: the table follows the schema, and the example adds up.

The guide's table names parameters by dotted path patterns (`segments.ID.attention`).
Each must lead to a number of the schema, every behavioural field of docs/model.md's
generated parameter table must be in it (so a new parameter gets documented), and the
worked example's values must follow from its figures and load with a shipped scenario.
No simulation runs here.
"""

from __future__ import annotations

import math
import re
import shlex
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel
from scipy.optimize import brentq

from marketsim.plugins.prepare import load_scenario, scenario_from_text

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "calibrate.md").read_text()
MODEL = (ROOT / "docs" / "model.md").read_text()
LAUNCH = ROOT / "scenarios" / "b2c_launch.yaml"
SHIPPED = [LAUNCH, ROOT / "scenarios" / "b2b_saas.yaml"]
TITLE = "Starting values from figures you know"

BEHAVIOURAL_UNIT = re.compile(
    r"chance|hazard|share|elasticity|multiplier|exponent|pull|per exposure|nesting|"
    r"Weibull|exposures per step|extra units"
)
"""Units of docs/model.md's table that mark a rate or response, not a figure of the books."""

PREFIXES = ("segments.", "channels.", "products.", "sales.", "brokers.")

EXEMPT = {
    "segments.ID.start.interested": "the state at step 0 (section 7): a count over the size",
    "segments.ID.start.leads": "the state at step 0 (section 7): a count over the size",
    "segments.ID.start.pipeline.leads": "the state at step 0: accounts counted in the CRM",
    "segments.ID.start.pipeline.appointments": "the state at step 0: counted in the CRM",
    "segments.ID.start.pipeline.opportunities": "the state at step 0: counted in the CRM",
    "segments.ID.start.pipeline.proposals": "the state at step 0: counted in the CRM",
    "channels.ID.discount": "a promotion's depth is the company's decision, not a response",
    "sales.inside.commission": "a contract term, read off the books",
    "sales.outside.commission": "a contract term, read off the books",
    "brokers.ID.commission": "a contract term, read off the books",
    "sales.routing.score_threshold": "a routing rule the company sets",
}
"""Behavioural-looking fields the guide need not give a starting value for, and why."""


def guide_section() -> str:
    match = re.search(rf"^## \d+\. {TITLE}\n(.*?)(?=^## |\Z)", GUIDE, flags=re.M | re.S)
    assert match, f"docs/calibrate.md has no section '{TITLE}'"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The cells of every markdown table row of `text`, header and rule lines left out."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def guide_patterns() -> list[str]:
    """Path patterns of the starting-values table (its first table), in order."""
    table = guide_section().split("### ")[0]
    return [m.group(1) for row in table_rows(table) if (m := re.fullmatch(r"`([^`]+)`", row[0]))]


# ------------------------------------------------------------- (a) patterns name fields


def members(tp: Any) -> list[Any]:
    """The alternatives a type annotation allows, Annotated and unions unwrapped."""
    origin = get_origin(tp)
    if origin is Annotated:
        return members(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in members(arg)]
    return [tp]


def follow(node: Any, part: str) -> list[Any]:
    """Where `part` leads from `node`: a scenario's own section, or a type where it has none.

    `ID` is any item of a list; `MEDIUM` any key of a mapping keyed by a fixed set of names.
    """
    if isinstance(node, BaseModel):
        field = type(node).model_fields.get(part)
        if field is None:
            return []
        value = getattr(node, part)
        own = isinstance(value, BaseModel) or (isinstance(value, list | dict) and value)
        return [value] if own else [field.annotation]
    if isinstance(node, list):
        return [item for item in node if part in ("ID", getattr(item, "id", None))]
    if isinstance(node, dict):
        return list(node.values()) if part == "MEDIUM" else [node[part]] if part in node else []
    found = []
    for tp in members(node):
        origin, args = get_origin(tp), get_args(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
            found.append(tp.model_fields[part].annotation)
        elif origin is list and (part == "ID" or part.isdigit()):
            found.append(args[0])
        elif (
            origin is dict
            and get_origin(args[0]) is Literal
            and (part == "MEDIUM" or part in get_args(args[0]))
        ):
            found.append(args[1])
    return found


def leads_to_a_number(node: Any, path: str) -> bool:
    """Whether the dotted `path` leads from `node` to a numeric field by at least one way."""
    return _reaches_number(node, path.split("."))


def _reaches_number(node: Any, parts: list[str]) -> bool:
    if not parts:
        return not isinstance(node, BaseModel) and any(m in (int, float) for m in members(node))
    return any(_reaches_number(child, parts[1:]) for child in follow(node, parts[0]))


@pytest.fixture(scope="module")
def shipped():
    return [load_scenario(path) for path in SHIPPED]


def test_the_table_is_there_and_parsed():
    patterns = guide_patterns()
    assert len(patterns) >= 60
    assert len(set(patterns)) == len(patterns), "a pattern is listed twice"
    assert all(p.startswith(PREFIXES) for p in patterns)


def test_every_pattern_names_a_number_of_the_schema(shipped):
    wrong = [p for p in guide_patterns() if not any(leads_to_a_number(s, p) for s in shipped)]
    assert not wrong, f"no field of the schema at {wrong}"


def test_the_resolver_refuses_what_is_not_a_number(shipped):
    launch = shipped[0]
    assert leads_to_a_number(launch, "segments.ID.media.MEDIUM.habit.shape")
    assert leads_to_a_number(launch, "brokers.ID.close_rate")  # no brokers: by type
    assert not leads_to_a_number(launch, "segments.ID.atention")
    assert not leads_to_a_number(launch, "segments.ID.network")  # a section
    assert not leads_to_a_number(launch, "segments.ID.dissatisfied_word_of_mouth")
    assert not leads_to_a_number(launch, "segments.ID.media.radar.retention")
    assert not leads_to_a_number(launch, "channels.tv.conversion")  # advertising


# ------------------------------------------- (b) every behavioural field is documented


def behavioural_fields() -> list[str]:
    """Patterns of docs/model.md's parameter table rows whose unit is a rate or response."""
    table = MODEL.split("<!-- parameters:begin -->")[1].split("<!-- parameters:end -->")[0]
    found = []
    for row in table_rows(table)[1:]:
        path, unit = row[0].strip("`"), row[1]
        pattern = re.sub(r"\[[a-z_]*\]", ".ID", path).replace("<medium>", "MEDIUM")
        if pattern.startswith(PREFIXES) and BEHAVIOURAL_UNIT.search(unit):
            found.append(pattern)
    return found


def test_every_behavioural_field_has_a_starting_value():
    fields = behavioural_fields()
    assert "segments.ID.attention" in fields and "sales.outside.skill" in fields
    patterns = guide_patterns()
    missing = [
        f
        for f in fields
        if f not in EXEMPT and not any(p == f or p.startswith(f + ".") for p in patterns)
    ]
    assert not missing, f"docs/calibrate.md section 8 gives no starting value for {missing}"


def test_the_exemptions_are_real_fields_the_guide_leaves_out():
    fields = behavioural_fields()
    assert set(EXEMPT) <= set(fields), set(EXEMPT) - set(fields)
    assert not set(EXEMPT) & set(guide_patterns())


# ----------------------------------------------------- (c) the worked example adds up

CPM, CTR, LANDING, MONTHLY_CHURN = 12.0, 0.004, 0.03, 0.04
SOCIAL_BUDGET, TARGETED, WEEKLY_REACH = 40000.0, 80000, 0.30
PER_WEEK = SOCIAL_BUDGET / 52 / (CPM / 1000) / TARGETED
SHAPE = brentq(lambda k: 1 - (1 + PER_WEEK / k) ** -k - WEEKLY_REACH, 0.01, 50.0)
DERIVED = {
    "`channels.social.cost_per_contact`": CPM / 1000,
    "`channels.search.cost_per_contact`": CPM / (1000 * CTR),
    "`channels.search.conversion`": LANDING,
    "`segments.ID.churn`": 1 - (1 - MONTHLY_CHURN) ** (12 / 52),
    "exposures per person per week": PER_WEEK,
    "weekly reach": 1 - math.exp(-PER_WEEK),
    "`segments.ID.media.social.habit.shape`": SHAPE,
}
"""Each worked-example row's value, computed from the figures it starts from."""


def example() -> str:
    return guide_section().split("### The worked example")[1]


def example_values() -> dict[str, str]:
    return {row[2]: row[3] for row in table_rows(example())[1:]}


def test_the_example_states_the_figures_it_starts_from():
    text = " ".join(example().split())
    for figure in ("CPM of 12 EUR", "0.4% of the time (CTR)", "3% of those visits", "4% of"):
        assert figure in text
    assert "40,000 EUR a year" in text and "80,000 adults" in text and "30%" in text


def test_the_example_values_follow_from_its_formulas():
    values = example_values()
    assert set(values) == set(DERIVED)
    for name, written in values.items():
        decimals = len(written.partition(".")[2])
        assert float(written) == pytest.approx(DERIVED[name], abs=0.5 * 10**-decimals), name
    reach = 1 - (1 + PER_WEEK / SHAPE) ** -SHAPE
    assert reach == pytest.approx(WEEKLY_REACH)  # the solver found a root


def overrides() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", example(), flags=re.S)
    assert block
    words = shlex.split(block.group(1))
    assert words[:2] == ["marketsim", "run"] and words[2] == "scenarios/b2c_launch.yaml"
    return [words[i + 1] for i, word in enumerate(words) if word == "--set"]


def calibrate_section() -> str:
    block = re.search(r"```yaml\n(calibrate:\n.*?)```", example(), flags=re.S)
    assert block
    return block.group(1)


def written_value(path: str) -> float:
    """The example's value for a concrete path, by the row whose pattern it matches."""
    values = example_values()
    for name, value in values.items():
        pattern = name.strip("`").replace("ID", "[A-Za-z_]+").replace(".", r"\.")
        if re.fullmatch(pattern, path):
            return float(value)
    raise KeyError(path)


def test_the_command_sets_the_derived_values():
    numbers = {}
    for text in overrides():
        path, _, value = text.partition("=")
        if path.endswith(".habit"):
            path, value = path + ".shape", re.search(r"shape: ([\d.]+)", value).group(1)
        if re.fullmatch(r"[\d.]+", value):
            numbers[path] = float(value)
    assert len(numbers) == 8
    for path, value in numbers.items():
        assert value == written_value(path), path


def test_the_calibrate_section_loads_with_the_launch_scenario():
    text = LAUNCH.read_text() + "\n" + calibrate_section()
    scenario = scenario_from_text(text, "b2c_launch.yaml", overrides())
    spec = scenario.calibrate
    assert spec is not None and len(spec.parameters) == 8
    segments = {s.id: s for s in scenario.segments}
    assert segments["families"].churn == pytest.approx(DERIVED["`segments.ID.churn`"], abs=5e-6)
    assert segments["urban_young"].media["social"].habit.shape == 0.25
    measured = 0
    for parameter in spec.parameters:
        try:
            value = written_value(parameter.path)
        except KeyError:
            continue
        measured += 1
        low, high = parameter.bounds
        assert low < value < high, parameter.path
        assert high / low <= 2.3, f"{parameter.path}: a measured figure gets a narrow range"
    assert measured == 4


def test_a_misspelt_path_in_the_section_is_refused():
    from marketsim.core.errors import ScenarioError

    text = LAUNCH.read_text() + "\n" + calibrate_section().replace("families.churn", "family.churn")
    with pytest.raises(ScenarioError, match="family"):
        scenario_from_text(text, "b2c_launch.yaml", overrides())

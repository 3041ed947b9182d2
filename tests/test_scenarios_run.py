"""Every shipped scenario and contract file validates, runs and keeps the books straight.

Also: diminishing returns of the launch plan's budget, and the parameter table of
docs/model.md, which is generated from the schema (run this file with `--write-docs`
to regenerate it after changing the schema).
"""

from __future__ import annotations

import copy
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from marketsim.core.stages import STAGES
from marketsim.drivers.simulation import simulate
from marketsim.engine.channels import spend_plan
from marketsim.scenario.schema import ChannelBase, Scenario
from marketsim.scenario.traits import Medium, Traits

try:
    from marketsim.plugins.prepare import load_scenario
except ImportError:  # the loader with file positions is optional here
    load_scenario = None

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
CONTRACT = sorted((ROOT / "tests" / "contract").glob("*.yaml"))
MODEL_DOC = ROOT / "docs" / "model.md"
BEGIN, END = "<!-- parameters:begin -->", "<!-- parameters:end -->"

SMALL = 3000  # people per segment (or accounts in a b2b segment) in the quick runs


def read_data(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def shrink(data: dict[str, Any], most: int = SMALL) -> dict[str, Any]:
    """The scenario with every segment cut to at most `most` (people or accounts)."""
    data = copy.deepcopy(data)
    for segment in data["segments"]:
        segment["size"] = min(segment["size"], most)
    return data


# --- every file validates and runs ---------------------------------------------------


def test_there_are_ready_scenarios():
    names = {p.name for p in SCENARIOS}
    assert {"b2c_launch.yaml", "bass_docking.yaml"} <= names
    assert len(names) >= 3


@pytest.mark.parametrize("path", SCENARIOS + CONTRACT, ids=lambda p: p.name)
def test_file_validates(path):
    scenario = load_scenario(path)
    assert scenario.horizon >= 1
    assert scenario.people >= 1


def expected_channel_spend(scenario: Scenario) -> dict[str, float]:
    """What each channel must spend within the horizon, from its budget and timing."""
    return {c.id: float(spend_plan(c, scenario.horizon).sum()) for c in scenario.channels}


@pytest.mark.parametrize("path", SCENARIOS + CONTRACT, ids=lambda p: p.name)
def test_file_runs_and_the_books_balance(path):
    scenario = Scenario.model_validate(shrink(read_data(path)))
    frame = simulate(scenario, replicates=1).timeseries
    horizon = scenario.horizon
    assert list(frame["step"]) == list(range(horizon))

    # Everybody is somewhere in the funnel, every step.
    stages = frame[[f"stage_{s}" for s in STAGES]]
    assert (stages >= 0).all().all()
    assert (stages.sum(axis=1) == scenario.people).all()
    # Customers are people in b2c segments and accounts in b2b ones.
    if all(s.kind == "b2c" for s in scenario.segments):
        assert (frame["customers"] == frame["stage_customer"]).all()
    else:
        assert (frame["customers"] <= frame["stage_customer"]).all()

    # Profit is revenue less cost of goods, spend and the commissions the company pays.
    books = frame["revenue"] - frame["cost_of_goods"] - frame["spend"] - frame["commissions"]
    scale = np.maximum(1.0, frame[["revenue", "cost_of_goods", "spend"]].abs().max(axis=1))
    assert (np.abs(frame["profit"] - books) <= 1e-6 * scale).all()

    # Marketing spend is the channels' spend, and adds up to the budgets in the horizon.
    planned = expected_channel_spend(scenario)
    for cid, total in planned.items():
        assert frame[f"spend_{cid}"].sum() == pytest.approx(total, rel=1e-9, abs=1e-6)
        assert (frame[f"spend_{cid}"] >= 0).all()
    channel_columns = [f"spend_{cid}" for cid in planned]
    marketing = frame["marketing_spend"]
    assert np.allclose(marketing, frame[channel_columns].sum(axis=1) if planned else 0.0)
    assert np.allclose(frame["spend"], marketing + frame["sales_cost"])
    assert marketing.sum() == pytest.approx(sum(planned.values()), rel=1e-9, abs=1e-6)
    # The loader refuses windows and schedules that do not fit the horizon, so every
    # channel spends exactly its budget.
    assert sum(planned.values()) == pytest.approx(sum(c.budget for c in scenario.channels))

    # Units: every new customer bought at least one; nothing is ever unsold.
    assert (frame["units"] >= frame["new_customers"]).all()
    assert (frame["units"] >= 0).all()
    assert np.all(np.diff(frame["units"].cumsum()) >= 0)
    assert (frame["revenue"] + frame["refunds"] >= -1e-9).all()
    assert (frame["cost_of_goods"] >= 0).all()


# --- the launch plan looks like a launch ----------------------------------------------


@pytest.fixture(scope="module")
def launch() -> pd.DataFrame:
    scenario = Scenario.model_validate(read_data(ROOT / "scenarios" / "b2c_launch.yaml"))
    return simulate(scenario, replicates=1).timeseries


def test_launch_scenario_gives_plausible_numbers(launch):
    people = int(launch[[f"stage_{s}" for s in STAGES]].iloc[0].sum())
    last = launch.iloc[-1]
    revenue, spend = launch["revenue"].sum(), launch["spend"].sum()
    # Some buy, far from everybody: a few percent of the region by the end of year one.
    assert 0.01 * people < last["customers"] < 0.2 * people
    # Sales grow through the year as awareness and the customer base build.
    assert launch["units"].iloc[-8:].mean() > 3 * launch["units"].iloc[:8].mean()
    # The plan pays for itself, but not many times over, in year one.
    assert 0.5 * spend < revenue < 10 * spend
    # Awareness spreads without reaching everyone.
    assert 0.2 * people < people - last["stage_unaware"] < 0.95 * people


def scale_plan(data: dict[str, Any], factor: float) -> dict[str, Any]:
    """Population and every money scale cut by `factor`, so per-person pressure is kept."""
    data = copy.deepcopy(data)
    for segment in data["segments"]:
        segment["size"] = max(1, round(segment["size"] * factor))
    for channel in data["channels"]:
        channel["budget"] = channel.get("budget", 0.0) * factor
        for key in ("cost_per_burst", "cost_scale"):
            if key in channel:
                channel[key] = channel[key] * factor
    return data


def double_budgets(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for channel in data["channels"]:
        channel["budget"] = 2 * channel.get("budget", 0.0)
    return data


def test_doubling_the_launch_budgets_raises_revenue_by_less_than_double():
    base = scale_plan(read_data(ROOT / "scenarios" / "b2c_launch.yaml"), 0.25)
    runs = {
        name: simulate(Scenario.model_validate(data), replicates=3).timeseries
        for name, data in (("base", base), ("double", double_budgets(base)))
    }
    revenue = {k: v.groupby("replicate")["revenue"].sum().to_numpy() for k, v in runs.items()}
    spend = {k: v.groupby("replicate")["spend"].sum().to_numpy() for k, v in runs.items()}
    assert np.allclose(spend["double"], 2 * spend["base"])
    # Paired on common random numbers: more money sells more in every replicate ...
    assert (revenue["double"] > revenue["base"]).all()
    # ... but with diminishing returns: less than twice the revenue.
    assert (revenue["double"] < 2 * revenue["base"]).all()


# --- the parameter table of docs/model.md ---------------------------------------------

UNITS = {
    "horizon": "steps",
    "seed": "integer",
    "step": "time unit",
    "name": "text",
    "description": "text",
    "products[].repurchase_every": "steps",
    "products[].repurchase_shape": "Weibull shape",
    "products[].billing_period": "steps",
    "products[].term": "steps",
    "products[].launch_step": "step",
    "products[].appeal": "multiplier",
    "products[].stockpile": "extra units per unit of relative discount",
    "segments[].size": "people (b2c) / accounts (b2b)",
    "segments[].buying_center": "people per account",
    "segments[].network.degree": "contacts",
    "segments[].attention": "hazard per unit of exposure impact",
    "segments[].persuasion": "hazard per step per unit of saturated ad memory",
    "segments[].word_of_mouth": "hazard per step per talking contact",
    "segments[].price_sensitivity": "elasticity",
    "segments[].reference_price": "currency",
    "segments[].deal_size": "units per deal",
    "segments[].contract_length": "steps",
    "segments[].start.tenure": "steps",
    "segments[].start.last_purchase": "steps",
    "segments[].start.remaining": "steps",
    "burn_in.steps": "steps",
    "segments[].substitution": "nesting parameter",
    "segments[].traits.price_sensitivity": "elasticity",
    "segments[].traits.purchase_rate": "multiplier",
    "segments[].traits.word_of_mouth": "multiplier",
    "segments[].traits.attitude": "multiplier",
    "segments[].media.<medium>.habit": "multiplier (reach relative to the segment's mean)",
    "segments[].dissatisfied_churn": "multiplier",
    "segments[].churn_price_response": "exponent",
    "segments[].churn_trust_response": "exponent",
    "channels[advertising].frequency_threshold": "exposures per step",
    "segments[].competition": "pull (1: our offer, fully approved, at the reference price)",
    "segments[].status_quo": "pull (as competition)",
    "demand.calendar.start": "date",
    "demand.seasonality.monthly": "multipliers",
    "demand.seasonality.fourier[].sin": "log multiplier",
    "demand.seasonality.fourier[].cos": "log multiplier",
    "demand.seasonality.period": "steps",
    "demand.trend": "share per step",
    "demand.events[].effect": "multiplier",
    "demand.events[].steps": "steps",
    "demand.events[].dates": "dates",
    "demand.events[].weights": "share of the step",
    "demand.segments": "segment ids",
    "channels[].start": "step",
    "channels[].end": "step",
    "channels[].schedule": "relative weights",
    "channels[].targets": "segment ids",
    "channels[advertising].impact": "ad memory per exposure",
    "channels[publicity].impact": "ad memory per exposure",
    "promotion.dip_steps": "steps",
    "sales.inside.count": "reps",
    "sales.outside.count": "reps",
    "sales.inside.calls_per_step": "calls per rep per step",
    "sales.outside.meetings_per_step": "meetings per rep per step",
    "sales.inside.start": "step",
    "sales.outside.start": "step",
    "sales.inside.ramp_steps": "steps",
    "sales.outside.ramp_steps": "steps",
    "sales.inside.tenured": "reps",
    "sales.outside.tenured": "reps",
    "sales.outside.max_cycle": "steps",
    "sales.routing.handoff_delay": "steps",
    "sales.routing.lead_expiry": "steps",
    "sales.cycle.discovery_steps": "steps",
    "sales.cycle.proposal_steps": "steps",
    "sales.cycle.warmth.inbound": "multiplier",
    "sales.cycle.warmth.referral": "multiplier",
    "sales.cycle.warmth.cold": "multiplier",
    "brokers[].count": "agents",
    "brokers[].targets": "segment ids",
    "brokers[].clients_per_step": "prospects per agent per step",
    "brokers[].refund_after": "steps",
    "brokers[].cooldown": "steps",
    "brokers[].clawback": "switch",
    "brokers[].start": "step",
    "brokers[].oversight_budget": "currency",
    "brokers[].oversight_scale": "currency per step",
}

# Meanings for keys the schema leaves undescribed, and notes on implicit defaults.
MEANINGS = {
    "name": "the scenario's name, shown in reports",
    "description": "free text for the reader",
    "step": "what one step means; every rate is per step",
    "seed": "random seed: the same seed gives bit-identical results",
    "products[].id": "product identifier, used by segments and promotions",
    "segments[].id": "segment identifier, used by channel and broker targets",
    "segments[].kind": "`b2c`: people buy on their own; `b2b`: accounts buy through sales "
    "and brokers",
    "segments[].network.type": "contact network model (see section 7)",
    "channels[].id": "channel identifier, used in `--set` and the outputs",
    "sales.inside.count": "inside sales reps",
    "sales.outside.count": "outside (field) sales reps",
    "brokers[].id": "broker group identifier",
    "brokers[].count": "agents in the group",
}
TRAIT = "a number for everyone, or a distribution drawn per person: section 1.1"
NOTES = {
    "channels[].end": "default: the horizon",
    "channels[].budget": "spread by `schedule`, else evenly over `start` to `end`",
    **{f"segments[].traits.{name}": TRAIT for name in Traits.model_fields},
    "segments[].media.<medium>.habit": TRAIT,
}


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The bare type of an annotation (None and Annotated removed), with its constraints."""
    constraints: list[Any] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            for item in extra:
                constraints += [*getattr(item, "metadata", ()), item]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, constraints
            annotation = args[0]
        else:
            return annotation, constraints


def _number(x: Any) -> str:
    if isinstance(x, int) and x >= 2**62 and (x & (x - 1)) == 0:
        return f"2^{x.bit_length() - 1}"
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _range(tp: Any, constraints: list[Any]) -> str:
    if get_origin(tp) is Literal:
        return ", ".join(f"`{v}`" for v in get_args(tp))
    if get_origin(tp) is list:
        item, inner = _unwrap(get_args(tp)[0])
        if any(getattr(c, "pattern", None) for c in inner):
            return "list of ids"
        bounds = _range(item, inner)
        return f"list of numbers {bounds}" if bounds else "list"
    if any(getattr(c, "pattern", None) for c in constraints):
        return "id (letter, then letters, digits, `_`, `-`)"
    bounds = []
    for attr, word in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        for c in constraints:
            value = getattr(c, attr, None)
            if value is not None and not isinstance(c, FieldInfo):
                bounds.append(f"{word} {_number(value)}")
    for attr, word in (("min_length", "length >="), ("max_length", "length <=")):
        for c in constraints:
            value = getattr(c, attr, None)
            if value is not None and not isinstance(c, FieldInfo):
                bounds.append(f"{word} {value}")
    kind = {int: "integer", float: "", str: "text", bool: "true/false"}.get(tp, "")
    return " ".join([kind, " and ".join(dict.fromkeys(bounds))]).strip()


def _unit(path: str, tp: Any, description: str, constraints: list[Any]) -> str:
    short = path.replace("channels[promotion]", "promotion")
    for key in (path, short):
        if key in UNITS:
            return UNITS[key]
    if any(getattr(c, "pattern", None) for c in constraints):
        return "id"
    if "(currency)" in description:
        return "currency"
    bounded = {getattr(c, "le", None) for c in constraints}
    bounded |= {getattr(c, "lt", None) for c in constraints}
    if tp is float and 1.0 in bounded:
        said = description.split(" only: ", 1)[-1]
        if said.startswith("chance"):
            return "chance per step" if "per step" in said else "chance"
        return "share"
    return ""


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()
        return "`[]`" if value == [] else "see below"
    if field.default is None:
        return "—"
    value = field.default
    if isinstance(value, str):
        return f"`{value}`" if value else '`""`'
    return f"`{_number(value)}`"


def _rows(model: type[BaseModel], prefix: str, skip: set[str] = frozenset()):
    """(path, field, bare type, constraints) for every leaf field, nested models expanded."""
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        tp, constraints = _unwrap(field.annotation)
        constraints = [*field.metadata, *constraints]
        path = f"{prefix}{name}"
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            yield from _rows(tp, f"{path}.")
            continue
        if get_origin(tp) is dict:  # per medium: `media.<medium>.habit`
            key, value = (_unwrap(arg)[0] for arg in get_args(tp))
            if isinstance(value, type) and issubclass(value, BaseModel):
                yield from _rows(value, f"{path}.<{'medium' if key == Medium else 'key'}>.")
                continue
        if get_origin(tp) is list:
            item, _ = _unwrap(get_args(tp)[0])
            if isinstance(item, type) and issubclass(item, BaseModel):
                yield from _rows(item, f"{path}[].")
                continue
            if get_origin(item) in (Union, types.UnionType):  # the channel types
                yield from _rows(ChannelBase, f"{path}[].")
                for member in get_args(item):
                    kind = get_args(member.model_fields["type"].annotation)[0]
                    skip_common = set(ChannelBase.model_fields) | {"type"}
                    yield from _rows(member, f"{path}[{kind}].", skip_common)
                continue
        yield path, field, tp, constraints


def parameter_table() -> str:
    """The markdown table of every scenario parameter, from the schema."""
    lines = [
        "| parameter | unit | default | range | meaning |",
        "|---|---|---|---|---|",
    ]
    for path, field, tp, constraints in _rows(Scenario, ""):
        description = field.description or MEANINGS.get(path, "")
        if path in NOTES:
            description = f"{description} ({NOTES[path]})"
        description = description.replace("|", "\\|")
        unit = _unit(path, tp, description, constraints)
        lines.append(
            f"| `{path}` | {unit} | {_default(field)} | {_range(tp, constraints)} | {description} |"
        )
    return "\n".join(lines)


def documented_table(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip()


def test_model_doc_lists_every_parameter_as_the_schema_defines_it():
    text = MODEL_DOC.read_text()
    assert documented_table(text) == parameter_table(), (
        "docs/model.md's parameter table is out of date with marketsim/scenario/schema.py; "
        "run `.venv/bin/python tests/test_scenarios_run.py --write-docs`"
    )


def test_parameter_table_covers_the_schema():
    table = parameter_table()
    for name in ("innovation", "word_of_mouth", "potential", "cost_per_contact", "discount"):
        assert f".{name}`" in table
    for name in Scenario.model_fields:
        assert f"`{name}" in table, name


def write_docs() -> None:
    text = MODEL_DOC.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    MODEL_DOC.write_text(text[:start] + "\n" + parameter_table() + "\n" + text[end:])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        write_docs()
        print(f"wrote the parameter table of {MODEL_DOC}")
    else:
        print(parameter_table())

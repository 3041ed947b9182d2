"""Bad scenarios: each problem is reported as `FILE:LINE:COL: dotted.path: message`.

Cases are built by editing one line of a contract scenario, so the expected position is
the position of that edit in a file a strategist would recognise.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from marketsim.plugins.prepare import load_scenario, scenario_from_text
from marketsim.scenario import ScenarioError
from marketsim.scenario.resources import MEMORY_LIMIT_ENV
from marketsim.scenario.source import MAX_BYTES

CONTRACT = Path(__file__).parent / "contract"
B2C = "minimal-b2c.yaml"
B2B = "minimal-b2b.yaml"
TWO = "two-segments.yaml"


def edited(name: str, old: str, new: str) -> str:
    text = (CONTRACT / name).read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {name}"
    return text.replace(old, new)


def problems(text: str | bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The problems reported for `text` saved as `s.yaml`, one string each."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "s.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario("s.yaml")
    assert str(info.value) == "\n".join(map(str, info.value.problems))
    return [str(p) for p in info.value.problems]


def assert_reported(found: list[str], prefix: str, *words: str) -> None:
    matching = [p for p in found if p.startswith(prefix)]
    assert matching, f"no problem starts with {prefix!r}: {found}"
    for word in words:
        assert word in matching[0], f"{word!r} not in {matching[0]!r}"


TARGETS_TV = "targets: [consumers]\n    cost_per_contact: 0.02"
SIZE = "    size: 50000             # people"
CASES = [
    # (id, file, old text, new text, expected prefix, words in the message)
    ("yaml-syntax", B2C, "step: week", "step: week: day", "s.yaml:5:11: ", ["invalid YAML"]),
    ("tab-indent", B2C, "step: week", "step: week\n\tseed: 3", "s.yaml:6:1: ", ["invalid YAML"]),
    (
        "missing-key",
        B2C,
        "    price: 40.0\n",
        "",
        "s.yaml:8:5: products.widget.price: ",
        ["missing required key 'price'", "expected a number >= 0"],
    ),
    (
        "missing-top-key",
        B2C,
        "name: minimal-b2c\n",
        "",
        "s.yaml:3:1: name: ",
        ["missing required key 'name'"],
    ),
    (
        "misspelt-key",
        B2C,
        "budget: 150000",
        "budjet: 150000",
        "s.yaml:19:5: channels.tv.budjet: ",
        ["unknown key 'budjet'", "did you mean 'budget'?"],
    ),
    (
        "misspelt-nested-key",
        B2B,
        "    meetings_per_step: 8",
        "    meeting_per_step: 8",
        "s.yaml:34:5: sales.outside.meeting_per_step: ",
        ["unknown key", "did you mean 'meetings_per_step'?"],
    ),
    (
        "unknown-key-lists-allowed",
        B2C,
        "    price: 40.0",
        "    price: 40.0\n    colour: red",
        "s.yaml:10:5: products.widget.colour: ",
        ["unknown key 'colour', expected one of 'id', 'price'"],
    ),
    (
        "misspelt-target",
        B2C,
        TARGETS_TV,
        TARGETS_TV.replace("consumers", "consumer"),
        "s.yaml:20:15: channels.tv.targets.0: ",
        ["expected a segment id", "found 'consumer'", "did you mean 'consumers'?"],
    ),
    (
        "undefined-segment",
        TWO,
        "targets: [senior]",
        "targets: [young, seniors, nobody]",
        "s.yaml:29:22: channels.print.targets.1: ",
        ["expected a segment id, one of 'young', 'senior'", "did you mean 'senior'?"],
    ),
    (
        "undefined-broker-target",
        B2B,
        "    count: 5\n    targets: [midmarket]",
        "    count: 5\n    targets: [enterprise]",
        "s.yaml:41:15: brokers.resellers.targets.0: ",
        ["expected a segment id", "found 'enterprise'"],
    ),
    (
        "undefined-product",
        B2C,
        "    kind: b2c\n",
        "    kind: b2c\n    products: [widgit]\n",
        "s.yaml:14:16: segments.consumers.products.0: ",
        ["expected a product id, one of 'widget'", "did you mean 'widget'?"],
    ),
    (
        "promotion-product",
        B2C,
        "channels:\n",
        "channels:\n  - {id: sale, type: promotion, end: 4, product: gizmo}\n",
        "s.yaml:17:50: channels.sale.product: ",
        ["expected a product id", "found 'gizmo'"],
    ),
    (
        "wrong-type-number",
        B2C,
        "budget: 150000",
        "budget: lots",
        "s.yaml:19:13: channels.tv.budget: ",
        ["expected a number >= 0, found 'lots'"],
    ),
    (
        "wrong-type-integer",
        B2C,
        "size: 50000",
        "size: 1.5",
        "s.yaml:14:11: segments.consumers.size: ",
        ["expected an integer >= 1, found 1.5"],
    ),
    (
        "wrong-type-string",
        B2C,
        "name: minimal-b2c",
        "name: [a, b]",
        "s.yaml:3:7: name: ",
        ["expected a string", "found a list of 2 items"],
    ),
    (
        "wrong-type-list",
        B2C,
        TARGETS_TV,
        TARGETS_TV.replace("[consumers]", "consumers"),
        "s.yaml:20:14: channels.tv.targets: ",
        ["expected a list, found 'consumers'"],
    ),
    (
        "wrong-type-mapping",
        B2C,
        "network: {type: small_world, degree: 8}",
        "network: 5",
        "s.yaml:15:14: segments.consumers.network: ",
        ["expected a mapping, found 5"],
    ),
    (
        "negative-budget",
        B2C,
        "budget: 150000",
        "budget: -5",
        "s.yaml:19:13: channels.tv.budget: expected a number >= 0, found -5",
        [],
    ),
    (
        "negative-size",
        TWO,
        "size: 20000",
        "size: -20000",
        "s.yaml:18:11: segments.senior.size: ",
        ["expected an integer >= 1", "found -20000"],
    ),
    (
        "negative-price",
        B2C,
        "price: 40.0",
        "price: -40.0",
        "s.yaml:9:12: products.widget.price: ",
        ["expected a number >= 0", "found -40.0"],
    ),
    (
        "probability-above-one",
        B2C,
        "    kind: b2c\n",
        "    kind: b2c\n    initial_awareness: 1.5\n",
        "s.yaml:14:24: segments.consumers.initial_awareness: ",
        ["expected a number >= 0 and <= 1, found 1.5"],
    ),
    (
        "probability-negative",
        B2B,
        "commission: 0.10",
        "commission: -0.1",
        "s.yaml:42:17: brokers.resellers.commission: ",
        [">= 0 and <= 1", "found -0.1"],
    ),
    (
        "horizon-zero",
        B2C,
        "horizon: 52 ",
        "horizon: 0 ",
        "s.yaml:4:10: horizon: ",
        ["expected an integer >= 1", "found 0"],
    ),
    (
        "duplicate-channel-id",
        B2C,
        "  - id: search",
        "  - id: tv",
        "s.yaml:22:9: channels.tv.id: ",
        ["expected a unique id, found 'tv' again", "line 17"],
    ),
    (
        "duplicate-segment-id",
        TWO,
        "  - id: senior\n",
        "  - id: young\n",
        "s.yaml:16:9: segments.young.id: ",
        ["unique id", "line 12"],
    ),
    (
        "duplicate-yaml-key",
        B2C,
        "    budget: 150000",
        "    budget: 150000\n    budget: 1",
        "s.yaml:20:5: channels.tv.budget: ",
        ["duplicate key 'budget'", "line 19"],
    ),
    (
        "bad-channel-type",
        B2C,
        "type: advertising",
        "type: advertsing",
        "s.yaml:18:11: channels.tv.type: ",
        ["expected one of 'advertising', 'inbound'", "found 'advertsing'", "did you mean"],
    ),
    (
        "missing-channel-type",
        B2C,
        "    type: inbound\n",
        "",
        "s.yaml:22:5: channels.search.type: ",
        ["missing required key 'type'", "'public_relations'"],
    ),
    (
        "bad-step",
        B2C,
        "step: week ",
        "step: weak ",
        "s.yaml:5:7: step: ",
        ["expected one of 'day', 'week'", "found 'weak'", "did you mean 'week'?"],
    ),
    (
        "bad-kind",
        B2B,
        "kind: b2b",
        "kind: btb",
        "s.yaml:13:11: segments.midmarket.kind: ",
        ["expected one of 'b2c', 'b2b'", "found 'btb'"],
    ),
    (
        "bad-network-type",
        B2C,
        "type: small_world",
        "type: small_word",
        "s.yaml:15:21: segments.consumers.network.type: ",
        ["found 'small_word'", "did you mean 'small_world'?"],
    ),
    (
        "bad-broker-side",
        B2B,
        "represents: seller",
        "represents: sellers",
        "s.yaml:39:17: brokers.resellers.represents: ",
        ["expected one of 'buyer', 'seller'", "did you mean 'seller'?"],
    ),
    (
        "bad-id",
        B2C,
        "  - id: tv",
        "  - id: 1tv",
        "s.yaml:17:9: channels.1tv.id: ",
        ["expected an id", "found '1tv'"],
    ),
    (
        "odd-degree",
        B2C,
        "degree: 8",
        "degree: 7",
        "s.yaml:15:14: segments.consumers.network: ",
        ["even degree", "degree=7"],
    ),
    (
        "buying-center-on-b2c",
        B2C,
        "    kind: b2c\n",
        "    kind: b2c\n    buying_center: 3\n",
        "s.yaml:14:5: segments.consumers.buying_center: ",
        ["buying_center applies to b2b segments only", "kind is 'b2c'"],
    ),
    (
        "deal-size-on-b2c",
        B2C,
        "    kind: b2c\n",
        "    kind: b2c\n    deal_size: 3\n",
        "s.yaml:14:5: segments.consumers.deal_size: ",
        ["deal_size applies to b2b segments only"],
    ),
    (
        "churn-on-b2b",
        B2B,
        "    buying_center: 4",
        "    buying_center: 4\n    churn: 0.01",
        "s.yaml:16:5: segments.midmarket.churn: ",
        ["churn applies to b2c segments only", "kind is 'b2b'"],
    ),
    (
        "negotiation-on-seller",
        B2B,
        "    commission: 0.10",
        "    commission: 0.10\n    negotiation: 0.1",
        "s.yaml:43:5: brokers.resellers.negotiation: ",
        ["negotiation applies to buyer's brokers only", "represents is 'seller'"],
    ),
    (
        "show-rate-above-one",
        B2B,
        "    commission: 0.05\n",
        "    commission: 0.05\n  cycle:\n    show_rate: 1.5\n",
        "s.yaml:38:16: sales.cycle.show_rate: ",
        ["<= 1", "1.5"],
    ),
    (
        "proposal-duration-zero",
        B2B,
        "    commission: 0.05\n",
        "    commission: 0.05\n  cycle:\n    proposal_steps: 0\n",
        "s.yaml:38:21: sales.cycle.proposal_steps: ",
        [">= 1", "found 0"],
    ),
    (
        "negative-ramp",
        B2B,
        "    meetings_per_step: 8",
        "    meetings_per_step: 8\n    ramp_steps: -2",
        "s.yaml:35:17: sales.outside.ramp_steps: ",
        [">= 0", "-2"],
    ),
    (
        "subscription-without-billing-period",
        B2B,
        "    unit_cost: 2000.0",
        "    unit_cost: 2000.0\n    purchase: subscription",
        "s.yaml:11:15: products.platform.purchase: ",
        ["needs a billing_period"],
    ),
    (
        "term-of-zero",
        B2B,
        "    unit_cost: 2000.0",
        "    unit_cost: 2000.0\n    purchase: subscription\n    billing_period: 4\n    term: 0",
        "s.yaml:13:11: products.platform.term: ",
        [">= 1", "found 0"],
    ),
    (
        "billing-period-on-one-off",
        B2C,
        "    unit_cost: 15.0",
        "    unit_cost: 15.0\n    billing_period: 4",
        "s.yaml:11:5: products.widget.billing_period: ",
        ["billing_period applies to subscription products only", "purchase is 'one_off'"],
    ),
    (
        "visit-conversion-above-one",
        B2C,
        "    cost_per_contact: 0.40",
        "    cost_per_contact: 0.40\n    conversion: 2",
        "s.yaml:27:17: channels.search.conversion: ",
        ["<= 1", "found 2"],
    ),
    (
        "schedule-length",
        TWO,
        "    budget: 60000\n    targets: [young]",
        "    budget: 60000\n    schedule: [1, 2, 3]\n    targets: [young]",
        "s.yaml:24:15: channels.social.schedule: ",
        ["expected 26 weights", "found 3"],
    ),
    (
        "schedule-all-zero",
        TWO,
        "    budget: 60000\n    targets: [young]",
        "    budget: 60000\n    schedule: [" + ", ".join(["0"] * 26) + "]\n    targets: [young]",
        "s.yaml:24:15: channels.social.schedule: ",
        ["positive weight", "found all zeros"],
    ),
    (
        "start-after-horizon",
        TWO,
        "    budget: 60000\n    targets: [senior]",
        "    budget: 60000\n    start: 26\n    targets: [senior]",
        "s.yaml:29:12: channels.print.start: ",
        ["expected a step < horizon (26), found 26"],
    ),
    (
        "end-after-horizon",
        TWO,
        "    budget: 60000\n    targets: [senior]",
        "    budget: 60000\n    end: 30\n    targets: [senior]",
        "s.yaml:29:10: channels.print.end: ",
        ["expected a step <= horizon (26), found 30"],
    ),
    (
        "empty-list",
        B2C,
        "products:\n  - id: widget\n    price: 40.0\n    unit_cost: 15.0\n",
        "products: []\n",
        "s.yaml:7:11: products: ",
        ["expected a list of at least 1 item, found an empty list"],
    ),
    (
        "python-tag",
        B2C,
        "name: minimal-b2c",
        "name: !!python/object/apply:os.system [echo]",
        "s.yaml:3:7: name: ",
        ["unsupported YAML tag '!!python/object/apply:os.system'"],
    ),
    (
        "recursive-alias",
        B2C,
        "targets: [consumers]\n    cost_per_contact: 0.02",
        "targets: &t [consumers, *t]\n    cost_per_contact: 0.02",
        "s.yaml:20:29: channels.tv.targets.1: ",
        ["alias *t refers to a node that contains it"],
    ),
    (
        "bad-timestamp",
        B2C,
        "name: minimal-b2c",
        "name: 2024-13-45",
        "s.yaml:3:7: name: ",
        ["expected a valid timestamp"],
    ),
    (
        "bool-as-number",
        B2C,
        "horizon: 52",
        "horizon: yes",
        "s.yaml:4:10: horizon: ",
        ["found true"],
    ),
    (
        "infinite-budget",
        B2C,
        "budget: 40000",
        "budget: .inf",
        "s.yaml:24:13: channels.search.budget: ",
        ["found inf"],
    ),
    (
        "negative-rep-count",
        B2B,
        "    count: 3\n",
        "    count: -3\n",
        "s.yaml:29:12: sales.inside.count: ",
        ["expected", ">= 0", "-3"],
    ),
    (
        "commission-above-one",
        B2B,
        "commission: 0.10",
        "commission: 1.5",
        "s.yaml:42:17: brokers.resellers.commission: ",
        ["<= 1", "1.5"],
    ),
    (
        "broker-targets-undefined-segment",
        B2B,
        "    targets: [midmarket]\n    commission: 0.10",
        "    targets: [midmarkt]\n    commission: 0.10",
        "s.yaml:41:15: brokers.resellers.targets.0: ",
        ["found 'midmarkt'", "did you mean 'midmarket'?"],
    ),
    (
        "empty-buying-centre",
        B2B,
        "buying_center: 4",
        "buying_center: 0",
        "s.yaml:15:20: segments.midmarket.buying_center: ",
        [">= 1", "found 0"],
    ),
    (
        "negative-meetings",
        B2B,
        "meetings_per_step: 8",
        "meetings_per_step: -8",
        "s.yaml:34:24: sales.outside.meetings_per_step: ",
        [">= 0", "-8"],
    ),
    (
        "broker-starts-after-horizon",
        B2B,
        "    count: 5\n",
        "    count: 5\n    start: 26\n",
        "s.yaml:41:12: brokers.resellers.start: ",
        ["< horizon (26)", "found 26"],
    ),
    # Individual traits and media (issue 11): distributions outside their domain, an
    # unknown medium or family, a trait written twice, a market that is not a multiple.
    (
        "gamma-negative-shape",
        B2C,
        SIZE,
        SIZE + "\n    traits:\n      purchase_rate: {dist: gamma, mean: 1, shape: -2}",
        "s.yaml:16:52: segments.consumers.traits.purchase_rate.shape: ",
        ["expected a number > 0", "found -2"],
    ),
    (
        "beta-mean-outside-0-1",
        B2C,
        SIZE,
        SIZE + "\n    traits:\n      attitude: {dist: beta, mean: 1.5, sd: 0.1}",
        "s.yaml:16:36: segments.consumers.traits.attitude.mean: ",
        ["> 0 and < 1", "found 1.5"],
    ),
    (
        "beta-too-spread",
        B2C,
        SIZE,
        SIZE + "\n    traits:\n      attitude: {dist: beta, mean: 0.5, sd: 0.6}",
        "s.yaml:16:17: segments.consumers.traits.attitude: ",
        ["needs sd < 0.5", "sd=0.6"],
    ),
    (
        "mix-weights",
        B2C,
        SIZE,
        SIZE + "\n    traits:\n      attitude: {dist: mix, values: [1, 2], weights: [0.5, 0.6]}",
        "s.yaml:16:17: segments.consumers.traits.attitude: ",
        ["must sum to 1", "1.1"],
    ),
    (
        "unknown-family",
        B2C,
        SIZE,
        SIZE + "\n    traits:\n      attitude: {dist: weibull, mean: 1}",
        "s.yaml:16:24: segments.consumers.traits.attitude.dist: ",
        ["'gamma'", "found 'weibull'"],
    ),
    (
        "negative-trait",
        B2C,
        SIZE,
        SIZE + "\n    traits:\n      word_of_mouth: -1",
        "s.yaml:16:22: segments.consumers.traits.word_of_mouth: ",
        ["expected a number >= 0, found -1"],
    ),
    (
        "unknown-medium-habit",
        B2C,
        SIZE,
        SIZE + "\n    media:\n      radioo: {habit: 2}",
        "s.yaml:16:7: segments.consumers.media.radioo: ",
        ["unknown key 'radioo'", "did you mean 'radio'"],
    ),
    (
        "unknown-channel-medium",
        B2C,
        "    cost_per_contact: 0.02",
        "    cost_per_contact: 0.02\n    medium: telly",
        "s.yaml:22:13: channels.tv.medium: ",
        ["'social'", "found 'telly'"],
    ),
    (
        "trait-twice",
        B2C,
        SIZE,
        SIZE + "\n    traits:\n      purchase_rate: 1\n      purchase_rate: 2",
        "s.yaml:17:7: segments.consumers.traits.purchase_rate: ",
        ["duplicate key 'purchase_rate'", "line 16"],
    ),
    (
        "represents-not-a-multiple",
        B2C,
        SIZE,
        SIZE + "\n    represents: 120000",
        "s.yaml:15:17: segments.consumers.represents: ",
        ["whole multiple of size (50000)", "2.4 times"],
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "prefix", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_located(name, old, new, prefix, words, tmp_path, monkeypatch):
    assert_reported(problems(edited(name, old, new), tmp_path, monkeypatch), prefix, *words)


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n  # and another\n"])
def test_empty_file(text, tmp_path, monkeypatch):
    assert problems(text, tmp_path, monkeypatch) == [
        "s.yaml:1:1: expected a scenario mapping, found an empty file"
    ]


def test_top_level_must_be_a_mapping(tmp_path, monkeypatch):
    found = problems("# a list\n- name: x\n", tmp_path, monkeypatch)
    assert found == [
        "s.yaml:2:1: expected a mapping of scenario keys at the top level, found a list of 1 item"
    ]


def test_all_problems_are_reported_sorted_by_line(tmp_path, monkeypatch):
    text = edited(B2C, "budget: 150000", "budget: -5")
    text = text.replace("size: 50000", "size: 0").replace("horizon: 52", "horizn: 52")
    found = problems(text, tmp_path, monkeypatch)
    assert [p.split(": ")[0:2] for p in found] == [
        ["s.yaml:3:1", "horizon"],
        ["s.yaml:4:1", "horizn"],
        ["s.yaml:14:11", "segments.consumers.size"],
        ["s.yaml:19:13", "channels.tv.budget"],
    ]
    assert "did you mean 'horizon'?" in found[1]


def test_every_reference_problem_is_reported(tmp_path, monkeypatch):
    text = edited(TWO, "targets: [young]", "targets: [yung]").replace("[senior]", "[old]")
    found = problems(text, tmp_path, monkeypatch)
    assert [p.split(": ")[0] for p in found] == ["s.yaml:24:15", "s.yaml:29:15"]


def test_alias_bomb_fails_fast(tmp_path, monkeypatch):
    lines = ['name: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, key in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{key}: &{key} [" + ", ".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    found = problems("\n".join(lines) + "\n", tmp_path, monkeypatch)
    assert time.perf_counter() - start < 0.5
    assert_reported(found, "s.yaml:6:8: f.0: ", "at most 100,000 nodes")


def test_aliases_of_modest_size_are_fine():
    text = (
        (CONTRACT / TWO)
        .read_text()
        .replace("network: {type: random, degree: 6}", "network: &net {type: random, degree: 6}")
    )
    text = text.replace("network: {type: random, degree: 4}", "network: {<<: *net, degree: 4}")
    scenario = scenario_from_text(text)
    assert [s.network.degree for s in scenario.segments] == [6, 4]
    assert {s.network.type for s in scenario.segments} == {"random"}


def test_deep_nesting_is_refused(tmp_path, monkeypatch):
    found = problems("name: " + "[" * 200 + "]" * 200 + "\n", tmp_path, monkeypatch)
    assert_reported(found, "s.yaml:1:", "nesting")


def test_oversize_file_is_refused_before_parsing(tmp_path, monkeypatch):
    text = "name: x\n" + "# padding\n" * (3 * 2**20 // 10)
    assert len(text) > MAX_BYTES
    found = problems(text, tmp_path, monkeypatch)
    assert found == ["s.yaml:1:1: expected a file of at most 2.0 MiB, found 3.0 MiB"]


def test_not_utf8(tmp_path, monkeypatch):
    found = problems(b"name: x\nhorizon: \xff\n", tmp_path, monkeypatch)
    assert found == ["s.yaml:2:10: expected UTF-8 text, found byte 0xff"]


def test_control_character(tmp_path, monkeypatch):
    found = problems("name: x\nhorizon: 5\x07\n", tmp_path, monkeypatch)
    assert found == ["s.yaml:2:11: invalid YAML: character #x0007 is not allowed"]


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match=r"^nope\.yaml:1:1: cannot read the file: No such"):
        load_scenario("nope.yaml")


def test_huge_population_is_refused_at_the_largest_segment(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, str(10**9))
    text = edited(TWO, "size: 30000", "size: 3_000_000_000")
    found = problems(text, tmp_path, monkeypatch)
    assert len(found) == 1
    assert re.fullmatch(
        r"s\.yaml:14:11: segments\.young\.size: expected a population that fits in memory, "
        r"found 3,000,020,000 people: needs about 4\d\d\.\d GB, 1\.0 GB available",
        found[0],
    )


def test_memory_limit_must_be_a_number(monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match="whole number of bytes, but got 'lots'"):
        load_scenario(CONTRACT / B2C)


def test_text_problems_name_the_source():
    with pytest.raises(ScenarioError, match=r"^<string>:1:1: name: missing required key"):
        scenario_from_text("horizon: 0\n")
    with pytest.raises(ScenarioError, match=r"^plan\.yaml:1:1: expected a scenario"):
        scenario_from_text("", name="plan.yaml")


def test_scenarios_built_in_python_are_checked_like_files():
    from marketsim.engine.model import MarketModel
    from marketsim.plugins.prepare import prepare

    good = load_scenario(CONTRACT / B2C)
    prepare(good)
    tv = good.channels[0].model_copy(update={"schedule": [1.0, 2.0]})
    bad = good.model_copy(update={"channels": [tv, good.channels[1]]})
    with pytest.raises(ScenarioError) as info:
        MarketModel(bad)
    assert str(info.value) == (
        "<scenario>:1:1: channels.tv.schedule: expected 52 weights (one per step), found 2"
    )


def test_a_schedule_and_a_window_together_are_refused(tmp_path, monkeypatch):
    text = edited(
        B2C,
        "    cost_per_contact: 0.40",
        "    cost_per_contact: 0.40\n    start: 4\n    schedule: [" + ", ".join(["1"] * 52) + "]",
    )
    found = problems(text, tmp_path, monkeypatch)
    assert_reported(found, "s.yaml:", "either a schedule or a start/end window")

"""suite.yaml: the markets that might be true, the strategies to try in each, what to measure.

A suite is read like a scenario: every value keeps the position it was written at, and
every problem is reported as `FILE:LINE:COL: dotted.path: message` with did-you-mean
(markets and strategies are named by their `name` in paths). What is known from the
file alone is checked here: the schema, names, references to strategies, the `set`
texts and overlays. Whether each change applies to each market's scenario is found
when the benchmark builds its scenarios (`marketsim.drivers.bench.cells`).

Markets come in three kinds, told apart by their keys: a scenario with changes
(`scenario`, `set`), a family sampled over parameter ranges (`ranges`, `sample`,
`count`, `seed`), or draws from a calibration's posterior (`posterior: DIR`, `draws`):
market NAME[i] is the scenario with posterior draw i (the rule of `run --posterior`'s
replicate i). The calibration directory is read here, so a folder that is not one is
reported where the suite names it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from marketsim.core.errors import InputError, Problem, ScenarioError, did_you_mean, quoted, show
from marketsim.core.limits import MAX_SEED
from marketsim.scenario.changes import Change, flatten, parse_set
from marketsim.scenario.posterior import Posterior, read_posterior
from marketsim.scenario.source import Document, Location, read_document
from marketsim.scenario.validate import model_problems

MAX_SAMPLED = 10_000
"""Most markets one sampled family may have."""

SAMPLE_SEED_LIMIT = 2**32 - 1
"""Largest sampling seed (numpy's seed range)."""


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, found {str(value).lower()}")
    return value


Name = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$",
        max_length=64,
        description="a name: a letter, then letters, digits, '_' or '-'",
    ),
]
Number = Annotated[float, BeforeValidator(_not_bool)]
Bound = Annotated[int | float, BeforeValidator(_not_bool)]
Count = Annotated[int, Field(strict=True)]


class Section(BaseModel):
    """Base of every suite section: immutable, unknown keys and infinities refused."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )


class Shift(Section):
    """Move a share of one setting's value onto another (`from` loses what `to` gains)."""

    source: str = Field(alias="from", description="dotted path the share is taken from")
    to: str = Field(description="dotted path the share is added to")
    share: Annotated[Number, Field(gt=0.0, le=1.0)] = Field(description="share moved, 0 to 1")


class StrategySpec(Section):
    """A plan tried in every market: changes applied on top of each market's scenario."""

    name: Name
    description: str = ""
    file: str | None = Field(
        None, description="a scenario (an optimiser's best.yaml): its plan's differences"
    )
    overlay: dict[str, Any] | None = Field(None, description="a partial scenario, merged by id")
    set: list[str] = Field(default_factory=list, description="dotted.path=VALUE changes")
    scale: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict, description="dotted path: factor"
    )
    shift: list[Shift] = Field(default_factory=list)


class ListedMarket(Section):
    """One market: a scenario file with changes."""

    name: Name
    description: str = ""
    scenario: str | None = Field(None, description="scenario file (default: the suite's)")
    set: list[str] = Field(default_factory=list, description="dotted.path=VALUE changes")
    scale: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict, description="dotted path: factor"
    )


def _range(value: object) -> object:
    if isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value):
        low, high = value
        if low > high:
            raise ValueError(f"expected [low, high] with low <= high, found [{low}, {high}]")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


Range = Annotated[list[Bound], Field(min_length=2, max_length=2), BeforeValidator(_range)]


class SampledMarkets(Section):
    """A family of markets: parameter values drawn over ranges by Latin hypercube or Sobol."""

    name: Name = Field(description="the family's name; its markets are NAME-01, NAME-02, ...")
    description: str = ""
    scenario: str | None = Field(None, description="scenario file (default: the suite's)")
    set: list[str] = Field(default_factory=list, description="dotted.path=VALUE changes")
    scale: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict, description="dotted path: factor"
    )
    sample: Literal["lhs", "sobol"] = Field("lhs", description="how the ranges are sampled")
    count: Annotated[Count, Field(ge=1, le=MAX_SAMPLED)] = Field(description="markets drawn")
    seed: Annotated[Count, Field(ge=0, le=SAMPLE_SEED_LIMIT)] = Field(
        0, description="seed of the sample (not of the simulation)"
    )
    ranges: Annotated[dict[str, Range], Field(min_length=1)] = Field(
        description="dotted path: [low, high]; whole-number bounds draw whole numbers"
    )

    def names(self) -> list[str]:
        """The names of the family's markets: NAME-01 ... (as many digits as needed)."""
        width = max(2, len(str(self.count)))
        return [f"{self.name}-{i:0{width}d}" for i in range(1, self.count + 1)]


class PosteriorMarkets(Section):
    """Markets drawn from a calibration: each draw of its posterior is one market."""

    name: Name = Field(
        "posterior", description="the family's name; its markets are NAME[0], NAME[1], ..."
    )
    description: str = ""
    posterior: str = Field(description="a calibration directory (marketsim calibrate --out)")
    scenario: str | None = Field(None, description="scenario file (default: the suite's)")
    set: list[str] = Field(default_factory=list, description="dotted.path=VALUE changes")
    scale: dict[str, Annotated[Number, Field(ge=0.0)]] = Field(
        default_factory=dict, description="dotted path: factor"
    )
    draws: Annotated[Count, Field(ge=1, le=MAX_SAMPLED)] = Field(
        description="markets: posterior draws 0 .. draws - 1"
    )

    def names(self) -> list[str]:
        """The names of the family's markets: NAME[0] ... NAME[draws - 1]."""
        return [f"{self.name}[{i}]" for i in range(self.draws)]


MarketSpec = ListedMarket | SampledMarkets | PosteriorMarkets


class Discovery(Section):
    """Scenario discovery: the market conditions under which one strategy beats another."""

    pairs: list[Annotated[list[Name], Field(min_length=2, max_length=2)]] | None = Field(
        None, description="[A, B] pairs: when does B beat A (default: baseline vs every other)"
    )
    depth: Annotated[Count, Field(ge=1, le=4)] = Field(2, description="depth of the tree")
    min_markets: Annotated[Count, Field(ge=1)] = Field(
        2, description="fewest markets a rule may describe"
    )


class Suite(Section):
    """A benchmark: every strategy in every market, on common random numbers."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    scenario: str | None = Field(None, description="scenario file of markets that name none")
    seed: Annotated[Count, Field(ge=0, le=MAX_SEED)] | None = Field(
        None, description="seed of every run (default: the first market's scenario's)"
    )
    replicates: Annotated[Count, Field(ge=2, le=10_000)] = Field(
        5, description="replicates of every (market, strategy), paired"
    )
    objective: str = Field("profit", description="the metric strategies are ranked by")
    metrics: list[str] = Field(
        default_factory=lambda: ["profit", "revenue", "roi"],
        description="metrics reported per market and strategy",
    )
    baseline: Name | None = Field(None, description="the strategy others are compared with")
    set: list[str] = Field(default_factory=list, description="changes applied to every market")
    markets: Annotated[list[dict[str, Any]], Field(min_length=1)]
    strategies: Annotated[list[StrategySpec], Field(min_length=2)]
    discovery: Discovery = Field(default_factory=Discovery)


# --------------------------------------------------------------------------- read


@dataclass(frozen=True)
class MarketDef:
    """One market entry as the benchmark needs it: its scenario file and its changes.

    `changes` are the suite's `set`, then the market's own `set` and `scale`; a sampled
    family adds one `set` per range and market when it is drawn.
    """

    index: int
    spec: MarketSpec
    scenario: Path
    changes: tuple[Change, ...]
    where: Location
    ranges: dict[str, Location]
    """Where each drawn path comes from: a range's path (sampled families), the
    `posterior:` value (posterior families)."""
    posterior: Posterior | None = None
    """The calibration's posterior (posterior families only)."""


@dataclass(frozen=True)
class StrategyDef:
    """One strategy: its file (if any) and its other changes, in the order they apply."""

    index: int
    spec: StrategySpec
    file: Path | None
    changes: tuple[Change, ...]
    where: Location


@dataclass(frozen=True)
class SuiteFile:
    """A suite read and checked: the schema, its markets and strategies, and positions."""

    path: Path
    doc: Document
    spec: Suite
    markets: tuple[MarketDef, ...]
    strategies: tuple[StrategyDef, ...]

    @property
    def baseline(self) -> str:
        """The baseline strategy's name (the first strategy unless `baseline` says)."""
        return self.spec.baseline or self.spec.strategies[0].name

    @property
    def base_scenario(self) -> Path | None:
        """The suite's own scenario file, if it names one."""
        return resolve_file(self.path, self.spec.scenario) if self.spec.scenario else None


def resolve_file(suite: Path, name: str) -> Path:
    """A file named in the suite, relative to the suite's folder (`~` expanded)."""
    path = Path(os.path.expanduser(name))
    return path if path.is_absolute() else Path(os.path.normpath(suite.parent / path))


def read_suite(path: str | os.PathLike[str]) -> SuiteFile:
    """The suite in the YAML file at `path`, checked as far as the file alone allows.

    Raises:
        ScenarioError: with every problem found, each located in the suite file.

    """
    doc = read_document(path, "suite")
    doc = Document(doc.name, doc.data, doc.values, doc.keys, label="name")
    try:
        spec = Suite.model_validate(doc.data)
    except ValidationError as e:
        problems = model_problems(Suite, e, doc.problem)
        markets = doc.data.get("markets") if isinstance(doc.data, dict) else None
        if isinstance(markets, list):  # the markets' own problems too, all at once
            problems += _market_problems(doc, markets)
        raise ScenarioError(_unique(problems)) from None
    suite_path = Path(path)
    text = suite_path.read_text(encoding="utf-8-sig").splitlines()
    reader = _Reader(doc, text, suite_path, spec)
    markets = reader.markets()
    strategies = reader.strategies()
    reader.check_names(markets, strategies)
    if reader.problems:
        raise ScenarioError(_unique(reader.problems))
    return SuiteFile(suite_path, doc, spec, tuple(markets), tuple(strategies))


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _market_problems(doc: Document, markets: list[Any]) -> list[Problem]:
    problems = []
    for i, item in enumerate(markets):
        if isinstance(item, dict):
            try:
                _market_spec(doc, item, i)
            except ScenarioError as e:
                problems += e.problems
    return problems


def _market_spec(doc: Document, item: dict[str, Any], i: int) -> MarketSpec:
    """The market entry `item` as its kind, or a `ScenarioError` located in the suite."""
    kind: type[MarketSpec] = ListedMarket
    if {"posterior", "draws"} & set(item):
        kind = PosteriorMarkets
    elif {"ranges", "sample", "count"} & set(item):
        kind = SampledMarkets
    try:
        return kind.model_validate(item)
    except ValidationError as e:
        raise ScenarioError(model_problems(kind, e, doc.problem, ("markets", i))) from None


class _Reader:
    """Turns the validated schema into market and strategy definitions, collecting problems."""

    def __init__(self, doc: Document, text: list[str], path: Path, spec: Suite) -> None:
        self.doc, self.text, self.path, self.spec = doc, text, path, spec
        self.problems: list[Problem] = []

    def at(self, path: tuple[str | int, ...], *, key: bool = False) -> Location:
        """Where `path` was written: past the opening quote of a quoted string."""
        where = self.doc.locate(path, key=key)
        line = self.text[where.line - 1] if 0 < where.line <= len(self.text) else ""
        quoted_here = where.col <= len(line) and line[where.col - 1] in "'\""
        return Location(where.file, where.line, where.col + quoted_here)

    def sets(self, path: tuple[str | int, ...], texts: list[str]) -> list[Change]:
        changes = []
        for j, text in enumerate(texts):
            try:
                changes.append(parse_set(text, self.at((*path, j))))
            except ScenarioError as e:
                self.problems += [
                    Problem(p.file, p.line, p.col, p.path or ".".join(map(str, path)), p.message)
                    for p in e.problems
                ]
        return changes

    def scales(self, here: tuple[str | int, ...], factors: dict[str, float]) -> list[Change]:
        return [
            Change("scale", path, factor, self.at((*here, "scale", path), key=True))
            for path, factor in factors.items()
        ]

    def scenario_file(self, name: str | None, path: tuple[str | int, ...]) -> Path | None:
        name = name or self.spec.scenario
        if name is None:
            message = "expected a scenario file: give `scenario:` here or at the top of the suite"
            self.problems.append(self.doc.problem(path, message))
            return None
        file = resolve_file(self.path, name)
        if not file.is_file():
            where = (*path, "scenario") if (*path, "scenario") in self.doc.values else ("scenario",)
            self.problems.append(self.doc.problem(where, f"no such file: {show(name)} ({file})"))
        return file

    def markets(self) -> list[MarketDef]:
        shared = self.sets(("set",), self.spec.set)
        found = []
        for i, item in enumerate(self.spec.markets):
            try:
                spec = _market_spec(self.doc, item, i)
            except ScenarioError as e:
                self.problems += e.problems
                continue
            here = ("markets", i)
            file = self.scenario_file(spec.scenario, here)
            own = self.sets((*here, "set"), spec.set) + self.scales(here, spec.scale)
            ranges = {}
            posterior = None
            if isinstance(spec, SampledMarkets):
                ranges = {p: self.at((*here, "ranges", p), key=True) for p in spec.ranges}
            elif isinstance(spec, PosteriorMarkets):
                posterior = self.posterior(spec.posterior, (*here, "posterior"))
                where = self.at((*here, "posterior"))
                ranges = dict.fromkeys(posterior.paths, where) if posterior else {}
            unread = isinstance(spec, PosteriorMarkets) and posterior is None
            if file is not None and not unread:
                found.append(
                    MarketDef(
                        i, spec, file, (*shared, *own), self.doc.locate(here), ranges, posterior
                    )
                )
        return found

    def posterior(self, name: str, path: tuple[str | int, ...]) -> Posterior | None:
        """The calibration `name` names (relative to the suite), or None and a problem."""
        try:
            return read_posterior(resolve_file(self.path, name))
        except ScenarioError as e:  # located in the calibration's own files
            self.problems += e.problems
        except InputError as e:
            message = f"{show(name)}: {e}"
            self.problems.append(self.doc.problem(path, message))
        return None

    def strategies(self) -> list[StrategyDef]:
        found = []
        for i, spec in enumerate(self.spec.strategies):
            here = ("strategies", i)
            changes: list[Change] = []
            if spec.overlay is not None:
                try:
                    changes += flatten(spec.overlay, self.doc.values, (*here, "overlay"))
                except ScenarioError as e:
                    self.problems += e.problems
            changes += self.sets((*here, "set"), spec.set)
            changes += self.scales(here, spec.scale)
            for j, shift in enumerate(spec.shift):
                at = (*here, "shift", j)
                changes.append(
                    Change(
                        "shift",
                        shift.source,
                        shift.share,
                        self.at((*at, "from")),
                        to=shift.to,
                        to_where=self.at((*at, "to")),
                    )
                )
            file = None
            if spec.file is not None:
                file = resolve_file(self.path, spec.file)
                if self.spec.scenario is None:
                    message = (
                        "expected the suite to name its `scenario`: a strategy file is applied "
                        "as its plan's differences from that scenario"
                    )
                    self.problems.append(self.doc.problem((*here, "file"), message))
                elif not file.is_file():
                    message = f"no such file: {show(spec.file)} ({file})"
                    self.problems.append(self.doc.problem((*here, "file"), message))
            found.append(StrategyDef(i, spec, file, tuple(changes), self.doc.locate(here)))
        return found

    def check_names(self, markets: list[MarketDef], strategies: list[StrategyDef]) -> None:
        seen: dict[str, int] = {}
        for market in markets:
            names = (
                [market.spec.name] if isinstance(market.spec, ListedMarket) else market.spec.names()
            )
            for name in names:
                if name in seen:
                    message = (
                        f"expected market names to be unique, found {show(name)} "
                        f"again (market {seen[name] + 1} is called so too)"
                    )
                    self.problems.append(
                        self.doc.problem(("markets", market.index, "name"), message)
                    )
                seen.setdefault(name, market.index)
        strategy_names = [s.spec.name for s in strategies]
        for s in strategies:
            if strategy_names.index(s.spec.name) != s.index:
                message = f"expected strategy names to be unique, found {show(s.spec.name)} again"
                self.problems.append(self.doc.problem(("strategies", s.index, "name"), message))
        self._named(("baseline",), self.spec.baseline, strategy_names)
        for i, pair in enumerate(self.spec.discovery.pairs or ()):
            for j, name in enumerate(pair):
                self._named(("discovery", "pairs", i, j), name, strategy_names)
            if pair[0] == pair[1]:
                message = f"expected two different strategies, found {show(pair[0])} twice"
                self.problems.append(self.doc.problem(("discovery", "pairs", i), message))

    def _named(self, path: tuple[str | int, ...], name: str | None, names: list[str]) -> None:
        if name is not None and name not in names:
            message = f"expected a strategy name, one of {quoted(names)}, found {show(name)}"
            self.problems.append(self.doc.problem(path, message + did_you_mean(name, names)))

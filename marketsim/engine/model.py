"""MarketModel: the Mesa model that steps the market.

One step runs phases in a fixed order: channels set their effect, the segments'
effective parameters are computed, the customer kernel moves every person, and the
ledger books money and units. Stepping it by hand is like any Mesa model:

    model = MarketModel(load_scenario("scenarios/b2c_launch.yaml"))
    while model.running:
        model.step()

and `model.run_model()` runs it to the horizon, a little faster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import mesa
import numpy as np

from marketsim.core.layout import N_STAGES, TOUCH_NONE, CountColumn, SegmentColumn
from marketsim.core.stages import AWARE, CUSTOMER
from marketsim.engine.agents.customer import Customer
from marketsim.engine.channels import ChannelModel, MarketState, StepInputs, build_channels
from marketsim.engine.ledger import Ledger
from marketsim.engine.media import channel_media
from marketsim.engine.population import SETUP_STEP, Population
from marketsim.engine.products import ProductRange
from marketsim.engine.sales import SalesForce, SalesOrganisation
from marketsim.engine.segments import SegmentParameters, SegmentStep
from marketsim.engine.start import establish_accounts, establish_people
from marketsim.engine.trait_bands import trait_bands
from marketsim.engine.traits import draw_state
from marketsim.kernels import reference
from marketsim.kernels.contact_tallies import update_tallies
from marketsim.kernels.customer_step import StepArrays, advance, word_of_mouth_input
from marketsim.kernels.rng import stream_key
from marketsim.plugins.context import StepContext
from marketsim.plugins.prepare import prepare
from marketsim.plugins.runtime import PluginSet
from marketsim.scenario.schema import Scenario

MATERIALIZE_UP_TO = 10_000  # populations this small get a Customer agent per person
Engine = Literal["kernel", "reference"]
ENGINES: tuple[str, ...] = ("kernel", "reference")


class MarketModel(mesa.Model):
    """A market of customers, channels and (later) sales agents over `horizon` steps.

    Args:
        scenario: the scenario; one not yet prepared (built in Python) is checked and
            its behaviours resolved first (`marketsim.plugins.prepare`).
        seed: overrides the scenario's seed.
        replicate: replicate index; replicate r of any scenario uses the same streams.
        materialize_customers: create a `Customer` agent per person; by default only
            when the population has at most `MATERIALIZE_UP_TO` people.
        engine: "kernel" (numba) or "reference" (plain Python, slow); both give
            bit-identical results.

    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        replicate: int = 0,
        materialize_customers: bool | None = None,
        engine: Engine = "kernel",
    ) -> None:
        seed = scenario.seed if seed is None else seed
        if seed < 0:
            raise ValueError(f"`seed >= 0` must hold, but got {seed=}")
        if engine not in ENGINES:
            raise ValueError(f"`engine` must be one of {ENGINES}, but got {engine=}")
        if replicate < 0:
            raise ValueError(f"`replicate >= 0` must hold, but got {replicate=}")
        scenario = prepare(scenario)
        # Mesa's own generators (`self.random`, `self.rng`) are seeded for the agents' sake
        # but marketsim draws nothing from them: every draw is counter-based (kernels.rng).
        super().__init__(seed=int(stream_key(seed, replicate, -2)) >> 1)
        self.scenario = scenario
        self.seed = seed
        self.replicate = replicate
        self.engine = engine
        self.setup_key = stream_key(seed, replicate, SETUP_STEP)
        self.population = Population.build(scenario, seed, replicate)
        self.channels = build_channels(scenario)
        self.products = ProductRange(scenario)
        establish_people(scenario, self.population, self.products, self.setup_key)
        self.product_arrays = self.products.arrays()
        self.media = channel_media(scenario, self.population.traits.media)
        self.segment_parameters = SegmentParameters(scenario, self.products, self.media)
        self.ledger = Ledger(scenario, replicate, self.products)
        self.plugins = PluginSet.for_scenario(
            scenario, self, lambda p: draw_state(p, self.setup_key, self.population.size)
        )
        self.sales = SalesOrganisation(
            scenario,
            self.population,
            self.products,
            self.setup_key,
            self.plugins,
            SalesForce.hire(self, scenario),
        )
        establish_accounts(
            scenario, self.population, self.products, self.sales.accounts, self.setup_key
        )
        self.scale = np.array([s.scale for s in scenario.segments], dtype=np.int64)
        self.market = MarketState(
            people=np.array([s.represented for s in scenario.segments], dtype=np.float64),
            stage_counts=_stage_counts(self.population, len(scenario.segments))
            * self.scale[:, None],
            reputation=np.array([s.reputation for s in scenario.segments]),
            search=np.array([s.search for s in scenario.segments]),
            silent=np.zeros(len(scenario.segments)),
        )
        self.burn_in = scenario.burn_in.steps if scenario.burn_in is not None else 0
        """Steps run before step 0; step t draws from the stream of step t + burn_in."""
        self._kernel_alone = (
            engine == "kernel"
            and not self.plugins.any_python_hooks
            and not self.sales.writes_people
        )
        """Whether the customer kernel is the only writer of people within a step."""
        self._in_own_loop = False
        if self.burn_in:
            self._run_burn_in()
        self.population.changes.forget()  # the caller may write people before step 0
        self._customers: dict[int, Customer] = {}
        if materialize_customers is None:
            materialize_customers = self.population.size <= MATERIALIZE_UP_TO
        if materialize_customers:
            for row in range(self.population.size):
                self.customer(row)

    def customer(self, row: int) -> Customer:
        """The `Customer` agent of person `row`, created on first use."""
        if not 0 <= row < self.population.size:
            raise IndexError(f"`0 <= row < {self.population.size}` must hold, but got {row=}")
        if row not in self._customers:
            self._customers[row] = Customer(self, row)
        return self._customers[row]

    def step(self) -> None:
        """Advance the market one step.

        The caller may write people's arrays before the next step, so that step scans
        everyone for changes in who talks for us; `run_model` skips that scan between
        its own steps.
        """
        t = self.steps - 1
        self._step(t, self.channels, t)
        if not self._in_own_loop:
            self.population.changes.forget()
        if self.steps >= self.scenario.horizon:
            self.running = False
            self.ledger.agents = self.sales.agent_rows(self.replicate)
            self.ledger.trait_bands = trait_bands(self.scenario, self.population)

    def run_model(
        self, steps: int | None = None, progress: Callable[[int], None] | None = None
    ) -> None:
        """Step to the horizon, or `steps` steps at most; `progress(1)` after each.

        Between its own steps nobody else writes people, so each step's contact tallies
        catch up from the people the previous step changed instead of a scan of
        everyone: the same tallies, sooner. `progress` must not write people's arrays.
        """
        self._in_own_loop = True
        try:
            done = 0
            while self.running and (steps is None or done < steps):
                self.step()
                done += 1
                if progress is not None:
                    progress(1)
        finally:
            self._in_own_loop = False
            self.population.changes.forget()

    def _run_burn_in(self) -> None:
        """Run the burn-in's steps (-burn_in to -1), then start the books afresh at step 0.

        Channels spend the burn-in plan (`burn_in_channels`); everything else follows the
        scenario's rules, schedules read as at step 0. What the burn-in booked (money,
        units, the reps' records) is dropped, and the customers it leaves are credited to
        no channel: their later purchases are the existing base's, as with `start:`.
        """
        channels = burn_in_channels(self.scenario, self.burn_in)
        for t in range(-self.burn_in, 0):
            self._step(t, channels, t + self.burn_in)
        pop = self.population
        pop.purchases[:] = 0
        pop.spent[:] = 0.0
        held = pop.stage == CUSTOMER
        pop.first_touch[held] = TOUCH_NONE
        pop.last_touch[held] = TOUCH_NONE
        for agent in self.sales.force.agents:
            agent.clear_record()
        self.ledger = Ledger(self.scenario, self.replicate, self.products)

    def _step(self, t: int, channels: list[ChannelModel], at: int) -> None:
        """Step `t` (negative in the burn-in), its channels spending their plan's `at`."""
        key = stream_key(self.seed, self.replicate, t + self.burn_in)
        scenario = self.scenario
        inputs = StepInputs.empty(len(channels), len(scenario.segments), len(scenario.products))
        for channel in channels:
            if channel.spec.enabled:
                channel.apply(at, key, self.market, inputs)
        ctx = StepContext(self, max(t, 0), key, inputs, self.market, self.population)
        self.plugins.call("price", ctx)
        self.plugins.call("exposure", ctx)
        segments = self.segment_parameters.for_step(t, self.market, inputs)
        ctx.seg = segments.seg
        self.plugins.call("persuasion", ctx)
        self.plugins.call("purchase", ctx)
        self.plugins.call("churn", ctx)
        ctx.talk, detractors_mean = self._word_of_mouth(ctx)
        counts = self._advance_customers(
            t, key, ctx.seg, segments, inputs, ctx.talk, detractors_mean
        )
        trust = 2.0 * self.market.reputation
        book, moved = self.sales.step(t, key, trust, segments.pull, segments.shares, inputs.price)
        counts[:, :N_STAGES] += moved
        counts *= self.scale[:, None]
        spend = np.array([c.plan[at] for c in channels])
        discounts = [d for c in channels if (d := c.discount(at)) is not None]
        self.ledger.record(t, counts, spend, inputs.price, inputs.renewal_price, discounts, book)
        self.market.stage_counts = counts[:, :N_STAGES].astype(np.float64)
        self.market.silent = counts[:, CountColumn.SILENT].astype(np.float64)
        self.plugins.call("after_step", ctx)
        self.ledger.rows[-1].update(self.plugins.measure(ctx))
        if not self._kernel_alone:
            self.population.changes.forget()

    def _word_of_mouth(self, ctx: StepContext) -> tuple[np.ndarray, np.ndarray]:
        """(per-person word-of-mouth input, detractors' mean field per segment).

        The input is an empty array unless a Python hook or the reference engine needs it:
        the kernel reads the running tallies of contacts (and detractors heard) itself. The
        mean field is empty while nobody speaks against the company.
        """
        pop = self.population
        against = bool(pop.detractor.any())
        python = self.plugins.python_hooks("word_of_mouth")
        nobody = np.zeros(0, dtype=np.float32)
        if against:
            pop.hear_detractors()
        mean_field = self._detractors_mean() if against else np.zeros(0)
        if not python and (self.engine == "kernel" or not against):
            return nobody, mean_field
        if self.engine == "kernel":
            update_tallies(pop, ctx.seg)
        else:
            networked = [
                pop.stage[i] <= AWARE
                and ctx.seg[pop.segment[i], SegmentColumn.MEAN_FIELD_TALKERS] < 0
                for i in range(pop.size)
            ]
            pop.contacts[:] = [
                reference.talkers(i, pop, ctx.seg) if networked[i] else 0 for i in range(pop.size)
            ]
            if against:
                pop.heard[:] = [
                    reference.detractors_heard(i, pop) if networked[i] else 0
                    for i in range(pop.size)
                ]
        word_of_mouth_input(
            pop.stage,
            pop.segment,
            ctx.seg,
            pop.contacts,
            pop.heard if against else pop.heard[:0],
            mean_field if against else np.zeros(len(self.market.people)),
            pop.talk,
        )
        ctx.talk = pop.talk
        self.plugins.call("word_of_mouth", ctx)
        return np.ascontiguousarray(ctx.talk, dtype=np.float32), np.zeros(0)

    def _detractors_mean(self) -> np.ndarray:
        """[segment] detractors a person of a well-mixed segment hears from on average."""
        pop = self.population
        mean_field = np.zeros(len(self.market.people))
        # people are stored segment by segment: a count over each well-mixed run
        degree = self.segment_parameters.well_mixed_degree
        offsets = pop.offsets
        for s in np.flatnonzero(degree >= 0):
            detractors = np.count_nonzero(pop.detractor[offsets[s] : offsets[s + 1]])
            mean_field[s] = degree[s] * detractors / (offsets[s + 1] - offsets[s])
        return mean_field

    def _advance_customers(
        self,
        t: int,
        key: np.uint64,
        seg: np.ndarray,
        segments: SegmentStep,
        inputs: StepInputs,
        talk: np.ndarray,
        detractors_mean: np.ndarray,
    ) -> np.ndarray:
        media = self.media
        step = StepArrays(
            t=t,
            key=key,
            setup_key=self.setup_key,
            seg=seg,
            exposure=inputs.exposure,
            bernoulli=inputs.bernoulli,
            impact=inputs.impact,
            threshold=media.threshold,
            wear_out=media.wear_out,
            group=media.of_channel,
            habit=media.habit,
            retention=self.segment_parameters.retention(seg),
            find=inputs.find,
            convert=inputs.convert,
            choice=segments.choice,
            again=segments.again,
            renewal=segments.renewal,
            price=inputs.price,
            renewal_price=inputs.renewal_price,
            relative=segments.relative,
            available=segments.available,
            pull=segments.pull,
            talk=talk,
            detractors_mean=detractors_mean,
        )
        hooks = self.plugins.kernel_hooks()
        engine = reference.customer_step if self.engine == "reference" else advance
        return self.plugins.run_kernel(
            t, lambda: engine(self.population, self.product_arrays, step, hooks)
        )


def burn_in_channels(scenario: Scenario, steps: int) -> list[ChannelModel]:
    """The channels as the burn-in runs them: each spends its burn-in plan every step.

    A channel the plan does not name spends nothing; promotions do not run. Switching a
    channel off (`enabled: false`, as contributions do) acts from step 0 and leaves the
    burn-in as it is, so every counterfactual starts from the same past.
    """
    plan = scenario.burn_in.plan if scenario.burn_in is not None else {}
    specs = [c.model_copy(update={"enabled": c.type != "promotion"}) for c in scenario.channels]
    past = scenario.model_copy(update={"horizon": steps, "channels": specs})
    channels = build_channels(past)
    for channel in channels:
        channel.plan = np.full(steps, plan.get(channel.id, 0.0))
    return channels


def _stage_counts(pop: Population, n_segments: int) -> np.ndarray:
    counts = np.zeros((n_segments, N_STAGES))
    np.add.at(counts, (pop.segment, pop.stage), 1.0)
    return counts

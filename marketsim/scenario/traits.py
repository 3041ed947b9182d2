"""How the people of one segment differ: distributions of individual traits and media habits.

A trait given as a plain number is the same for everyone (the segment's behaviour, as
without traits); a distribution is drawn once per person, at set-up, from the
counter-based random numbers (docs/model.md section 1.1). Families, each named by `dist`:

- `fixed`: `value` for everyone;
- `beta`: values in (0, 1) with the given `mean` and `sd` (sd^2 < mean (1 - mean));
- `gamma`: positive values with the given `mean` and `shape` (shape 1 is exponential);
- `lognormal`: positive values with the given `mean` and `sd`;
- `mix`: a discrete mix, `values` with `weights` summing to 1 (say, a loyal group and a
  deal-seeking one).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from marketsim.scenario.types import Frozen, NonNegative, Number, Positive, Probability

Medium = Literal[
    "tv",
    "radio",
    "print",
    "outdoor",
    "cinema",
    "social",
    "display",
    "video",
    "search",
    "email",
    "events",
    "press",
]
MEDIA: tuple[str, ...] = get_args(Medium)
"""The media a channel can be bought in; people's habits and ad memory are per medium."""


class Fixed(Frozen):
    """The same value for everyone."""

    dist: Literal["fixed"]
    value: NonNegative = Field(description="the value")

    @property
    def mean(self) -> float:
        """The distribution's mean."""
        return self.value


class Beta(Frozen):
    """A share in (0, 1) that varies from person to person."""

    dist: Literal["beta"]
    mean: Annotated[Number, Field(gt=0.0, lt=1.0)] = Field(description="mean, in (0, 1)")
    sd: Positive = Field(description="standard deviation; sd^2 < mean (1 - mean)")

    @model_validator(mode="after")
    def _spread(self) -> Beta:
        bound = math.sqrt(self.mean * (1.0 - self.mean))
        if not self.sd < bound:
            raise ValueError(
                f"a beta with mean {self.mean:g} needs sd < {bound:.4g} "
                f"(sd^2 < mean (1 - mean)), but got sd={self.sd:g}"
            )
        return self

    @property
    def a(self) -> float:
        """The first shape parameter, from the mean and sd."""
        return self.mean * self.concentration

    @property
    def b(self) -> float:
        """The second shape parameter."""
        return (1.0 - self.mean) * self.concentration

    @property
    def concentration(self) -> float:
        """A + b = mean (1 - mean) / sd^2 - 1."""
        return self.mean * (1.0 - self.mean) / self.sd**2 - 1.0


class Gamma(Frozen):
    """A positive value, right-skewed: heavy and light buyers (the NBD's gamma mixing)."""

    dist: Literal["gamma"]
    mean: Positive = Field(description="mean")
    shape: Positive = Field(description="shape k: sd = mean / sqrt(k); 1 is exponential")


class LogNormal(Frozen):
    """A positive value whose logarithm is normal."""

    dist: Literal["lognormal"]
    mean: Positive = Field(description="mean")
    sd: Positive = Field(description="standard deviation")

    @property
    def sigma(self) -> float:
        """Standard deviation of the logarithm."""
        return math.sqrt(math.log1p((self.sd / self.mean) ** 2))

    @property
    def mu(self) -> float:
        """Mean of the logarithm."""
        return math.log(self.mean) - 0.5 * self.sigma**2


class Mix(Frozen):
    """A few groups, each with its own value."""

    dist: Literal["mix"]
    values: Annotated[list[NonNegative], Field(min_length=1, max_length=16)] = Field(
        description="each group's value"
    )
    weights: Annotated[list[Probability], Field(min_length=1, max_length=16)] = Field(
        description="each group's share of the people, summing to 1"
    )

    @model_validator(mode="after")
    def _shares(self) -> Mix:
        if len(self.values) != len(self.weights):
            raise ValueError(
                f"a mix needs one weight per value, but got {len(self.values)} values and "
                f"{len(self.weights)} weights"
            )
        if not math.isclose(sum(self.weights), 1.0, abs_tol=1e-9):
            total = sum(self.weights)
            raise ValueError(f"a mix's weights must sum to 1, but they sum to {total:g}")
        return self

    @property
    def mean(self) -> float:
        """The distribution's mean."""
        return sum(v * w for v, w in zip(self.values, self.weights, strict=True))


Distribution = Annotated[Fixed | Beta | Gamma | LogNormal | Mix, Field(discriminator="dist")]
Trait = NonNegative | Distribution
"""A trait: one number for everyone, or a distribution over the people."""


def mean_of(trait: Trait) -> float:
    """The trait's mean over the people."""
    return float(trait) if isinstance(trait, int | float) else trait.mean


def varies(trait: Trait | None) -> bool:
    """Whether the trait differs between people (a distribution other than fixed)."""
    return trait is not None and not isinstance(trait, int | float | Fixed)


class MediumHabit(Frozen):
    """How the people of a segment use one medium."""

    habit: Trait = Field(
        1.0,
        description="how likely a person is to be reached by the medium, relative to the "
        "segment's average (the average is kept: contacts bought are conserved)",
    )
    retention: Probability | None = Field(
        None,
        description="share of this medium's ad memory carried to the next step (default: "
        "the segment's ad_memory_retention)",
    )


class Traits(Frozen):
    """Individual traits of a segment's people (docs/model.md section 1.1)."""

    price_sensitivity: Trait | None = Field(
        None,
        description="each person's price elasticity (default: the segment's "
        "price_sensitivity for everyone)",
    )
    purchase_rate: Trait = Field(
        1.0,
        description="multiplier on a person's chance to buy, and on the rate at which a "
        "repeat buyer buys again (gamma: heavy and light buyers)",
    )
    word_of_mouth: Trait = Field(
        1.0, description="multiplier on how strongly a person responds to contacts' word"
    )
    attitude: Trait = Field(
        1.0,
        description="brand attitude: multiplier on a person's chance to become interested "
        "and to buy",
    )

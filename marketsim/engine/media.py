"""How each channel's exposures work on people: memory, habits and frequency.

Which ad memory a channel feeds and how long it is remembered, whose media habits decide
who it reaches, and how exposures in one step count (a threshold, wear-out).

People keep one ad-memory stock per memory group. A medium whose retention some segment
sets has a group of its own; every other exposure channel feeds the shared group 0,
remembered at the segment's `ad_memory_retention`. Without media retentions there is
one stock, as in a model with a single adstock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from marketsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Media:
    """The media of a scenario's channels, and its ad-memory groups.

    Attributes:
        of_channel: [channel] the group a channel's exposures feed (0 for channels
            without exposures, which add nothing).
        retention: [segment, group] share of each group's memory kept to the next step.
        media: the medium of each group after the shared one.
        habit: [channel] column of the people's habit array for the channel's medium,
            or -1 where nobody's habit differs.
        threshold: [channel] exposures in a step before the channel's ads work.
        wear_out: [channel] how much less each further exposure in a step weighs.

    """

    of_channel: np.ndarray
    retention: np.ndarray
    media: tuple[str, ...]
    habit: np.ndarray
    threshold: np.ndarray
    wear_out: np.ndarray

    @property
    def count(self) -> int:
        """Number of groups (at least 1)."""
        return self.retention.shape[1]


def channel_media(scenario: Scenario, habit_media: tuple[str, ...]) -> Media:
    """The groups of `scenario`; `habit_media` are the media with a habit column."""
    retained = {
        m for seg in scenario.segments for m, h in seg.media.items() if h.retention is not None
    }
    mediums = [getattr(c, "medium", None) for c in scenario.channels]
    media = tuple(dict.fromkeys(m for m in mediums if m in retained))
    of_channel = np.array([1 + media.index(m) if m in media else 0 for m in mediums], np.int64)
    retention = np.empty((len(scenario.segments), 1 + len(media)))
    for s, seg in enumerate(scenario.segments):
        retention[s, 0] = seg.ad_memory_retention
        for g, medium in enumerate(media, start=1):
            habit = seg.media.get(medium)
            own = habit.retention if habit is not None else None
            retention[s, g] = seg.ad_memory_retention if own is None else own
    habit = np.array([habit_media.index(m) if m in habit_media else -1 for m in mediums], np.int64)
    threshold = np.array(
        [getattr(c, "frequency_threshold", 0) for c in scenario.channels], np.int64
    )
    wear_out = np.array([getattr(c, "wear_out", 0.0) for c in scenario.channels], np.float64)
    return Media(of_channel, retention, media, habit, threshold, wear_out)

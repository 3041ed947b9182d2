"""What each random draw is for: one purpose constant per kind of decision.

A draw is a hash of (seed, replicate, step, entity, purpose), so no two decisions share
a stream. Plugins draw from `P_PLUGIN` upwards, through `Plugin.purpose(k)`.
"""

from __future__ import annotations

P_NETWORK = 1
P_INITIAL = 2
P_AWARE = 3
P_INTEREST = 4
P_BUY = 5
P_SEARCH = 6
P_DECAY = 7
P_CHURN = 8
P_REPEAT = 9
P_BURST = 11
P_POTENTIAL = 12
P_CHOICE = 13
P_HANDOFF = 14
P_QUALIFY = 15
P_COLD = 16
P_APPROVE = 17
P_RENEW = 18
P_DEAL = 19
P_OVERSELL = 20
P_SHOW = 21
P_DECIDE = 22
P_FORGET = 23
P_SATISFY = 24
P_STOCK = 25
P_START = 26  # the funnel stage a person starts in (a segment's `start:`)
P_START_PRODUCT = 27  # what an existing customer bought
P_START_SATISFY = 28  # whether it satisfied them
P_START_ACCOUNT = 29  # the stage an account starts in: under contract or in the pipeline
P_START_DEAL = 30  # what a running contract is for
P_START_DUE = 31  # when an open proposal is decided
P_POSTERIOR = 32  # which posterior set a replicate uses (entity 0, step -1)
P_EXPOSURE = 1 << 10  # + channel index: one exposure stream per channel
P_FIND = 2 << 10  # + channel index: whether a search finds the company through it
P_BROKER = 3 << 10  # + 2 x broker index (+1): which prospects a broker works, and closes
P_CONVERT = 4 << 10  # + channel index: whether a visit through the channel becomes a lead
P_REP = 5 << 10  # (+1 for outside reps), per rep slot: whether a rep leaves this step
P_PLUGIN = 1 << 20  # plugins draw from P_PLUGIN + their own small integers

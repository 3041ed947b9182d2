"""Every kernel written the obvious way: one person or account at a time, in plain Python.

It is the specification the numba kernels are held to (tests compare them bit for bit)
and the slow peer in the speed benchmark. Nothing here is fast, on purpose.

- the customer step (`customer_step`, phase by phase as docs/model.md section 3 reads);
- word-of-mouth input (`talkers`), initial awareness, Poisson draws;
- the account-level sales kernels (`route_leads` ... `marketing_prospects`), read off
  the docstrings of `marketsim.kernels.sales` and never off the kernels themselves.
"""

from __future__ import annotations

import math

import numpy as np

from marketsim.core.layout import (
    AGAIN,
    AGAINST,
    BILLED,
    NEW,
    PRAISE,
    CountColumn,
    SegmentColumn,
    n_count_columns,
    touch_organic,
    touch_word_of_mouth,
    units_by_product,
    units_first_touch,
)
from marketsim.core.purposes import (
    P_APPROVE,
    P_AWARE,
    P_BUY,
    P_CHOICE,
    P_CHURN,
    P_CONVERT,
    P_DECAY,
    P_DECIDE,
    P_EXPOSURE,
    P_FIND,
    P_FORGET,
    P_HANDOFF,
    P_INITIAL,
    P_INTEREST,
    P_POTENTIAL,
    P_QUALIFY,
    P_RENEW,
    P_REPEAT,
    P_SATISFY,
    P_SEARCH,
    P_SHOW,
    P_START,
    P_STOCK,
)
from marketsim.core.stages import AWARE, CUSTOMER, INTERESTED, LEAD, OPPORTUNITY, QUALIFIED, UNAWARE
from marketsim.kernels.customer_step import (
    REPEAT,
    SUBSCRIPTION,
    People,
    ProductArrays,
    StepArrays,
)
from marketsim.kernels.hooks import (
    CHURN_HOOK,
    EXPOSURE_HOOK,
    PERSUASION_HOOK,
    PURCHASE_HOOK,
    SATISFACTION_HOOK,
    WOM_HOOK,
    HookFault,
    allowed,
)
from marketsim.kernels.rng import uniform_py
from marketsim.kernels.sales import (
    COLD,
    INBOUND,
    LOST_COMPETITOR,
    LOST_NO_DECISION,
    NO_SHOW,
    OPENED,
    PROPOSAL,
    PROPOSED,
    REFERRAL,
    WON,
    AccountState,
    Centres,
)

S = SegmentColumn

# --------------------------------------------------------------------------- draws


def poisson_py(key: int, entity: int, purpose: int, lam: float) -> int:
    """A Poisson draw by inversion of one uniform; the arithmetic of `rng.poisson`."""
    if lam <= 0.0:
        return 0
    u = uniform_py(key, entity, purpose)
    k = 0
    p = math.exp(-lam)
    c = p
    while u >= c and k < 10_000:
        k += 1
        p *= lam / k
        c += p
        if p == 0.0 and c < u:
            break
    return k


def initial_awareness(key: int, i: int, share: float) -> bool:
    """Whether person `i` starts aware."""
    return uniform_py(key, i, P_INITIAL) < share


def start_stage(key: int, i: int, shares: list[float], codes: list[int]) -> int | None:
    """The stage person `i` starts in (None: the draw falls past every share).

    The first of `codes` whose running share, given the segment's share of each, the
    person's draw falls below.
    """
    if not sum(shares) > 0.0:
        return None
    u = uniform_py(key, i, P_START)
    running = 0.0
    for share, code in zip(shares, codes, strict=True):
        running += share
        if u < running:
            return code
    return None


# --------------------------------------------------------------------------- customer step


def speaks(person: int, people: People, seg) -> bool:
    """Whether a person speaks for the company.

    Every customer does, unless let down in a segment whose dissatisfied customers keep
    quiet or speak against it.
    """
    mode = seg[people.segment[person], S.DISSATISFIED_WORD]
    return people.stage[person] == CUSTOMER and (mode == PRAISE or people.satisfied[person] != 0)


def talkers(i: int, people: People, seg) -> float:
    """Word-of-mouth input of person `i`: how many of their contacts speak for the company.

    Rounded through float32, the precision the kernel stores it in.
    """
    if people.stage[i] > AWARE:
        return 0.0
    mean_field = float(seg[people.segment[i], S.MEAN_FIELD_TALKERS])
    if mean_field >= 0.0:
        return float(np.float32(mean_field))
    contacts = people.indices[people.indptr[i] : people.indptr[i + 1]]
    return float(sum(1 for j in contacts if speaks(int(j), people, seg)))


def detractors_heard(i: int, people: People) -> int:
    """How many of person `i`'s contacts are detractors (speak against the company)."""
    contacts = people.indices[people.indptr[i] : people.indptr[i + 1]]
    return sum(int(people.detractor[j]) for j in contacts)


def trait(column: np.ndarray, i: int, default: float) -> float:
    """Person i's value of a trait, or `default` where the column is empty."""
    return float(column[i]) if column.shape[0] else default


def own_pull(s: int, eps: float, seg, step: StepArrays, products: ProductArrays) -> float:
    """The product range's pull (section 4) at price elasticity `eps`."""
    inverse = 1.0 / float(seg[s, S.SUBSTITUTION])
    weights = [
        (float(products.appeal[p]) * float(step.relative[s, p]) ** -eps) ** inverse
        for p in range(step.relative.shape[1])
        if step.available[s, p]
    ]
    return sum(weights) ** float(seg[s, S.SUBSTITUTION])


def customer_step(people: People, products: ProductArrays, step: StepArrays, hooks) -> np.ndarray:
    """Advance every person one step in place; return counts[segment, column].

    The same equations as `marketsim.kernels.customer_step.advance`, one person at a
    time; `hooks` is the `KernelHooks` the kernel takes, each called from Python.
    """
    stage, seg, exposure = people.stage, step.seg, step.exposure
    n = len(stage)
    n_channels = exposure.shape[0]
    n_products = step.choice.shape[1]
    groups = people.ad_memory.shape[1]
    wom_code, organic_code = touch_word_of_mouth(n_channels), touch_organic(n_channels)
    counts = np.zeros((seg.shape[0], n_count_columns(n_channels, n_products)), dtype=np.int64)
    key, setup_key, t = int(step.key), int(step.setup_key), int(step.t)
    first_touch, last_touch = people.first_touch, people.last_touch
    varied = people.price_sensitivity.shape[0] > 0

    views = hooks.views(people, t)  # what hooks read: people at the start of the step
    faults: list[HookFault] = []

    def hook(point: int, i: int, s: int, value: float) -> float:
        for k in range(int(hooks.first[point]), int(hooks.first[point + 1])):
            params, view = hooks.params[k], views[k]
            try:
                if hooks.viewed[k]:
                    fn = hooks.view_functions[k]
                    out = float(fn(np.uint64(key), i, s, value, view, params))
                else:
                    fn = hooks.functions[k]
                    out = float(fn(np.uint64(key), i, s, value, *view[:3], params))
            except Exception as e:
                raise HookFault(k, point, i, value, e) from e
            if allowed(point, out):
                value = out
            elif not faults:
                faults.append(HookFault(k, point, i, out, None))
        return value

    def touch(i: int, code: int) -> None:
        last_touch[i] = code
        if first_touch[i] < 0:
            first_touch[i] = code

    talk = [talkers(i, people, seg) for i in range(n)]
    if len(step.talk):
        talk = [float(step.talk[i]) if stage[i] <= AWARE else 0.0 for i in range(n)]
    for i in range(n):
        s = int(people.segment[i])
        p_ = seg[s]
        was = int(stage[i])
        st = was
        eps = trait(people.price_sensitivity, i, float(p_[S.ELASTICITY]))
        rate = trait(people.purchase_rate, i, 1.0)
        attitude = trait(people.attitude, i, 1.0)
        # 3.1 exposure: a Poisson (or 0/1) number of contacts per channel, weighed by the
        # channel's frequency response, at the person's habit of the channel's medium
        exposures, strongest, channel = 0.0, 0.0, -1
        added = [0.0] * groups
        for c in range(n_channels):
            lam = float(exposure[c, s])
            if lam <= 0.0:
                continue
            col = int(step.habit[c])
            reach = float(people.habit[i, col]) if col >= 0 and people.habit.shape[0] else 1.0
            if step.bernoulli[c]:
                k = 1 if uniform_py(key, i, P_EXPOSURE + c) < min(1.0, lam * reach) else 0
            else:
                k = poisson_py(key, i, P_EXPOSURE + c, lam * reach)
            threshold, wear = int(step.threshold[c]), float(step.wear_out[c])
            if k == 0 or k < threshold:
                continue
            impact = float(step.impact[c])
            weight = impact * (1.0 - (1.0 - wear) ** k) / wear if wear > 0.0 else impact * k
            if weight > 0.0:
                exposures += weight
                added[int(step.group[c])] += weight
                if weight > strongest:
                    strongest, channel = weight, c
        raw = exposures
        exposures = hook(EXPOSURE_HOOK, i, s, exposures)
        # 3.2 ad memory, one stock per memory group; a hook's change is shared out
        if groups == 1:
            carried = float(step.retention[s, 0]) * float(people.ad_memory[i, 0])
            memory = carried + exposures
            people.ad_memory[i, 0] = np.float32(memory)
        else:
            scale = exposures / raw if raw > 0.0 else 1.0
            if raw <= 0.0:
                added[0] = exposures
            carried = memory = 0.0
            for g in range(groups):
                kept = float(step.retention[s, g]) * float(people.ad_memory[i, g])
                now = kept + scale * added[g]
                people.ad_memory[i, g] = np.float32(now)
                carried += kept
                memory += now
        if channel >= 0 and was != CUSTOMER:
            touch(i, channel)
        heard = hook(WOM_HOOK, i, s, talk[i]) if was <= AWARE else 0.0
        wom = heard * float(p_[S.WORD_OF_MOUTH]) * trait(people.word_of_mouth, i, 1.0)
        unit, quantity = 0, 1
        # 3.3 awareness
        if st == UNAWARE:
            ad = float(p_[S.ATTENTION]) * (exposures + float(p_[S.AWARENESS_ADSTOCK]) * carried)
            hazard = float(p_[S.INNOVATION_HAZARD]) + ad + wom
            if hazard > 0.0:
                p = 1.0 - math.exp(-hazard)
                u = uniform_py(key, i, P_AWARE)
                if u < p:
                    st = AWARE
                    share = u / p * hazard
                    if share >= ad:
                        touch(i, wom_code if share < ad + wom else organic_code)
        # 3.4 interest, or forgetting without a reminder
        if st == AWARE:
            interested = False
            if uniform_py(setup_key, i, P_POTENTIAL) < p_[S.POTENTIAL]:
                pressure = float(p_[S.PERSUASION]) * (1.0 - math.exp(-memory)) + wom
                pressure = hook(PERSUASION_HOOK, i, s, pressure)
                p = 1.0 - (1.0 - float(p_[S.INTEREST])) * math.exp(-pressure)
                interested = uniform_py(key, i, P_INTEREST) < min(1.0, attitude * p)
            if interested:
                st = INTERESTED
            elif was == AWARE and p_[S.AWARENESS_DECAY] > 0.0:
                forget = float(p_[S.AWARENESS_DECAY]) * math.exp(-(memory + wom))
                if uniform_py(key, i, P_FORGET) < forget:
                    st = UNAWARE
                    counts[s, CountColumn.FORGOT] += 1
        mult = rate * attitude
        if varied and step.pull[s] > 0.0:
            mult *= own_pull(s, eps, seg, step, products) / float(step.pull[s])
        # 3.5 purchase, or search: a visit, which may become a lead
        if st == INTERESTED:
            chance = min(1.0, float(p_[S.PURCHASE]) * mult)
            if uniform_py(key, i, P_BUY) < hook(PURCHASE_HOOK, i, s, chance):
                st, unit = CUSTOMER, NEW
            else:
                visited = False
                if uniform_py(key, i, P_SEARCH) < p_[S.SEARCH]:
                    for c in range(n_channels):
                        f = float(step.find[c, s])
                        if f > 0.0 and uniform_py(key, i, P_FIND + c) < f:
                            visited = True
                            touch(i, c)
                            if uniform_py(key, i, P_CONVERT + c) < step.convert[c]:
                                st = LEAD
                            break
                if visited:
                    counts[s, CountColumn.VISITS] += 1
                if st == LEAD:
                    counts[s, CountColumn.NEW_LEADS] += 1
                elif was == INTERESTED and uniform_py(key, i, P_DECAY) < p_[S.INTEREST_DECAY]:
                    st = AWARE
        # 3.6 leads
        elif st == LEAD and was == LEAD:
            chance = min(1.0, float(p_[S.LEAD_CONVERSION]) * mult)
            if uniform_py(key, i, P_BUY) < hook(PURCHASE_HOOK, i, s, chance):
                st, unit = CUSTOMER, NEW
            elif uniform_py(key, i, P_DECAY) < p_[S.INTEREST_DECAY]:
                st = AWARE
        # 3.7 customers: subscriptions renew at the end of a term and, at each bill, lapse
        # with the churn of the period; other customers may lapse any step, and buy a
        # repeat product again once their stock is used
        elif st == CUSTOMER and was == CUSTOMER and people.product[i] >= 0:
            prod = int(people.product[i])
            tau = t - int(people.purchased_at[i])
            relative = float(step.relative[s, prod])
            churn = float(p_[S.CHURN])
            if people.satisfied[i] == 0:
                churn *= float(p_[S.DISSATISFIED_CHURN])
            if p_[S.CHURN_PRICE] > 0.0 and relative > 0.0:
                churn *= relative ** (float(p_[S.CHURN_PRICE]) * eps)
            if products.model[prod] == SUBSCRIPTION:
                billing = int(products.billing[prod])
                if tau % int(products.term[prod]) == 0 and not (
                    uniform_py(key, i, P_RENEW) < step.renewal[s, prod]
                ):
                    st = AWARE
                elif tau % billing == 0:
                    stays = (1.0 - min(1.0, churn)) ** float(billing)
                    if uniform_py(key, i, P_CHURN) < hook(CHURN_HOOK, i, s, 1.0 - stays):
                        st = AWARE
                    else:
                        unit = BILLED
            elif uniform_py(key, i, P_CHURN) < hook(CHURN_HOOK, i, s, min(1.0, churn)):
                st = AWARE
            elif products.model[prod] == REPEAT and tau > 0:
                scale, shape = float(products.scale[prod]), float(products.shape[prod])
                hazard = (tau / scale) ** shape - ((tau - 1) / scale) ** shape
                own = float(step.again[s, prod])
                if varied and relative > 0.0:
                    own = relative**-eps
                chance = (1.0 - math.exp(-hazard * rate)) * own * p_[S.REPEAT]
                if uniform_py(key, i, P_REPEAT) < hook(PURCHASE_HOOK, i, s, float(chance)):
                    unit = AGAIN
        if unit == NEW:
            u = uniform_py(key, i, P_CHOICE)
            if varied:
                inverse = 1.0 / float(p_[S.SUBSTITUTION])
                weights = [
                    (float(products.appeal[p]) * float(step.relative[s, p]) ** -eps) ** inverse
                    if step.available[s, p]
                    else 0.0
                    for p in range(n_products)
                ]
                total, running = sum(weights), 0.0
                chosen = max(
                    (p for p in range(n_products) if step.available[s, p]), default=n_products - 1
                )
                for p in range(n_products):
                    if step.available[s, p]:
                        running += weights[p]
                        if u < running / total:
                            chosen = p
                            break
            else:
                chosen = next(
                    (p for p in range(n_products) if u < step.choice[s, p]), n_products - 1
                )
            people.product[i] = chosen
        prod = int(people.product[i])
        if unit in (NEW, AGAIN):
            # 3.7 stocking up at a discount, and 3.8 satisfaction with the purchase
            off = 1.0 - float(step.price[s, prod])
            until = t
            if products.model[prod] == REPEAT and off > 0.0 and products.stockpile[prod] > 0.0:
                mean = float(products.stockpile[prod]) * off
                extra = math.floor(mean) + (uniform_py(key, i, P_STOCK) < mean - math.floor(mean))
                quantity += extra
                until = t + math.floor(extra * float(products.every[prod]) + 0.5)
            people.purchased_at[i] = until
            chance = float(products.quality[prod])
            if step.relative[s, prod] > 1.0:
                chance *= float(step.relative[s, prod]) ** -eps
            chance = hook(SATISFACTION_HOOK, i, s, chance)
            people.satisfied[i] = 1 if uniform_py(key, i, P_SATISFY) < chance else 0
            if p_[S.DISSATISFIED_WORD] == AGAINST:
                people.detractor[i] = 1 - people.satisfied[i]
        if unit:
            paid = step.renewal_price[s, prod] if unit == BILLED else step.price[s, prod]
            people.purchases[i] += quantity
            people.spent[i] += np.float32(quantity * float(products.list_price[prod]) * paid)
        stage[i] = st
        if st == CUSTOMER and not speaks(i, people, seg):
            counts[s, CountColumn.SILENT] += 1
        counts[s, st] += 1
        if st == CUSTOMER and was != CUSTOMER:
            counts[s, CountColumn.NEW_CUSTOMERS] += 1
            people.customer_since[i] = t
        if was == CUSTOMER and st != CUSTOMER:
            counts[s, CountColumn.LAPSED] += 1
        if unit:
            lt = int(last_touch[i]) if last_touch[i] >= 0 else organic_code
            ft = int(first_touch[i]) if first_touch[i] >= 0 else organic_code
            counts[s, CountColumn.UNITS] += quantity
            counts[s, CountColumn.UNITS_LAST_TOUCH + lt] += quantity
            counts[s, units_first_touch(n_channels) + ft] += quantity
            counts[s, units_by_product(n_channels) + (unit - 1) * n_products + prod] += quantity
    if faults:
        raise faults[0]
    return counts


# --------------------------------------------------------------------------- sales kernels
#
# Twins of the public functions of `marketsim.kernels.sales`, with their signatures and
# keyword arguments: each takes an object with the `AccountState` attributes and a
# `Centres`, mutates the same arrays and returns the same values and dtypes. They are read
# off that module's docstrings and conventions, one account at a time:
#
# * Account a's buying centre is person rows first[a] .. first[a] + size[a] - 1; the first
#   member is the economic buyer.
# * Account stages reuse the funnel's indices: WITH_MARKETING (= UNAWARE), LEAD,
#   QUALIFIED, OPPORTUNITY, PROPOSAL (= CUSTOMER + 1, account-only: its members stay at
#   the opportunity person stage) and CUSTOMER.
# * A member is engaged when interested or further.
# * Every change of a person's stage is booked in delta[segment of the account, stage]:
#   one out of the old stage, one into the new; a member already there does not move.
# * Each random decision is one `uniform_py(key, entity, purpose)` draw, keyed by who
#   decides: the account for the hand-off (P_HANDOFF), a call (P_QUALIFY), whether an
#   appointment is held (P_SHOW) and a decision (P_DECIDE); the person for an approval
#   (P_APPROVE). A chance p succeeds when the draw is below p.
# * The twins do not validate their arguments (the wrappers do, and are tested for it).
#
# Where a docstring is silent, the kernels' convention is written down next to the code,
# marked "Convention:".

WITH_MARKETING = UNAWARE


def rows(a: int, centres: Centres) -> range:
    """The population rows of account `a`'s buying centre."""
    first = int(centres.first[a])
    return range(first, first + int(centres.size[a]))


def set_stage(row: int, new: int, segment: int, centres: Centres) -> None:
    """Put person `row` (of `segment`) at stage `new`, booking the move in `delta`."""
    old = int(centres.stage[row])
    if old == new:
        return
    centres.delta[segment, old] -= 1
    centres.delta[segment, new] += 1
    centres.stage[row] = new


def move_members(a: int, lo: int, hi: int, to: int, centres: Centres) -> None:
    """Members of account `a` at a stage between `lo` and `hi` (inclusive) go to `to`."""
    s = int(centres.segment[a])
    for row in rows(a, centres):
        if lo <= int(centres.stage[row]) <= hi:
            set_stage(row, to, s, centres)


def engagement(a: int, centres: Centres) -> tuple[int, int]:
    """(members who are leads, members interested or further) of account `a`."""
    member_stages = [int(centres.stage[row]) for row in rows(a, centres)]
    leads = sum(1 for st in member_stages if st == LEAD)
    engaged = sum(1 for st in member_stages if st >= INTERESTED)
    return leads, engaged


def back_to_marketing(a: int, accounts: AccountState, centres: Centres) -> None:
    """Account `a` goes back to marketing, cold (the `expire` docstring).

    Members in the pipeline (interested to customer) fall back to aware and every
    member's approval is forgotten. Convention: `since`, `ready`, `due` and `source` are
    left as they were (the next stage that needs them sets them).
    """
    accounts.stage[a] = WITH_MARKETING
    move_members(a, INTERESTED, CUSTOMER, AWARE, centres)
    for row in rows(a, centres):
        accounts.approvals[row] = 0


def route_leads(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    t: int,
    *,
    threshold: float,
    delay: int,
    loss: float,
    wom_code: int,
    first_touch: np.ndarray,
) -> tuple[int, int]:
    """Hand accounts with marketing that have a lead and score >= `threshold` to sales.

    The score is the share of the buying centre engaged (a score equal to the threshold
    passes). Each passed account is lost with chance `loss`: its leads fall back to aware
    and it stays with marketing (Convention: its `since`, `ready` and `source` untouched).
    Else it is a LEAD account since `t`, ready at `t + delay`, its source REFERRAL when
    its economic buyer's first touch (`first_touch[first[a]]`, per person) is word of
    mouth (`wom_code`), INBOUND otherwise. Returns (routed, lost) as ints.
    """
    routed = 0
    lost = 0
    for a in range(len(accounts.stage)):
        if int(accounts.stage[a]) != WITH_MARKETING:
            continue
        leads, engaged = engagement(a, centres)
        score = engaged / int(centres.size[a])
        if leads == 0 or score < threshold:
            continue
        if uniform_py(int(key), a, P_HANDOFF) < loss:
            lost += 1
            move_members(a, LEAD, LEAD, AWARE, centres)
        else:
            routed += 1
            accounts.stage[a] = LEAD
            accounts.since[a] = t
            accounts.ready[a] = t + delay
            buyer = int(centres.first[a])
            accounts.source[a] = REFERRAL if int(first_touch[buyer]) == wom_code else INBOUND
    return routed, lost


def expire(accounts: AccountState, centres: Centres, t: int, at_stage: int, patience: int) -> int:
    """Accounts at `at_stage` that entered it `patience` or more steps ago go back cold.

    "Left for `patience` steps" reads as t - since[a] >= patience; going back is
    `back_to_marketing`. Works for any account stage (PROPOSAL included). Returns how
    many accounts expired, as an int.
    """
    expired = 0
    for a in range(len(accounts.stage)):
        if int(accounts.stage[a]) == at_stage and t - int(accounts.since[a]) >= patience:
            expired += 1
            back_to_marketing(a, accounts, centres)
    return expired


def calls(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    t: int,
    called: np.ndarray,
    cold: np.ndarray,
    rates: np.ndarray,
    *,
    trust: np.ndarray,
    cooling: float,
    in_market: np.ndarray,
) -> np.ndarray:
    """Call each account of `called` once, in order; returns int64 0/1: qualified.

    The chance of a warm call (a lead) is rate x (share of the buying centre engaged) x
    trust[segment] x (1 - cooling) ** (t - since[a]), `since` being the step the lead
    was passed to sales; a cold call's is rate x trust[segment] if the account is
    `in_market`, else 0 (Convention: only accounts whose in_market is true can qualify
    from a cold call; the draw is made either way).

    Qualified: the account is QUALIFIED since `t` and every member short of qualified
    (unaware .. lead) is qualified; a cold account's source becomes COLD (Convention: a
    lead keeps the source it was routed with). Not qualified: the account goes back to
    nurture, with marketing (Convention: `since` unchanged); a lead's leads step back to
    interested; a cold account's economic buyer hears of the company (unaware -> aware).

    The cooling factor is Python's float power; the kernel's may differ from it in the
    last bits, which could only matter for a draw within those bits of the chance.
    """
    qualified = np.zeros(len(called), dtype=np.int64)
    for i in range(len(called)):
        a = int(called[i])
        s = int(centres.segment[a])
        rate = float(rates[i])
        if bool(cold[i]):
            chance = rate * float(trust[s]) if bool(in_market[a]) else 0.0
        else:
            _, engaged = engagement(a, centres)
            share = engaged / int(centres.size[a])
            cooled = (1.0 - cooling) ** (t - int(accounts.since[a]))
            chance = rate * share * float(trust[s]) * cooled
        if uniform_py(int(key), a, P_QUALIFY) < chance:
            qualified[i] = 1
            accounts.stage[a] = QUALIFIED
            accounts.since[a] = t
            if bool(cold[i]):
                accounts.source[a] = COLD
            move_members(a, UNAWARE, LEAD, QUALIFIED, centres)
        else:
            accounts.stage[a] = WITH_MARKETING
            if bool(cold[i]):
                buyer = int(centres.first[a])
                if int(centres.stage[buyer]) == UNAWARE:
                    set_stage(buyer, AWARE, s, centres)
            else:
                move_members(a, LEAD, LEAD, INTERESTED, centres)
    return qualified


def meetings(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    t: int,
    met: np.ndarray,
    *,
    approve: np.ndarray,
    warmth: np.ndarray,
    show_rate: float,
    discovery: int,
    proposal_steps: int,
) -> np.ndarray:
    """Meet each account of `met` once, in order; returns int64 outcomes.

    An outcome is NO_SHOW, OPENED, PROPOSED, or 0 for a meeting on an open opportunity
    that sent no proposal.

    An account at QUALIFIED has an appointment: it is held with chance `show_rate`.
    Convention: a no-show sends the account back to marketing like `expire` (members
    interested .. customer to aware, approvals forgotten, `since` unchanged) and nothing
    else happens at that meeting. A held appointment opens an opportunity: the account is
    OPPORTUNITY since `t` and its members short of opportunity (unaware .. qualified) join
    it (customers stay customers); OPENED. Any other account met is an open opportunity
    (Convention: no show draw for it).

    Then in that meeting every member who has not agreed agrees with chance
    min(1, approve[segment] x warmth[source]); agreements are never withdrawn. A proposal
    goes out when the economic buyer and more than half the members have agreed and the
    opportunity has had `discovery` steps of meetings. Convention: the step it opened
    counts, so that is t - since + 1 >= discovery (with discovery 1 a proposal can go out
    at the opening meeting). Then the account is PROPOSAL since `t`, due at
    t + proposal_steps, outcome PROPOSED (instead of OPENED); its members stay at the
    opportunity stage and keep their approvals (`decide` reads them).
    """
    outcome = np.zeros(len(met), dtype=np.int64)
    for i in range(len(met)):
        a = int(met[i])
        s = int(centres.segment[a])
        if int(accounts.stage[a]) == QUALIFIED:
            if not uniform_py(int(key), a, P_SHOW) < show_rate:
                outcome[i] = NO_SHOW
                back_to_marketing(a, accounts, centres)
                continue
            accounts.stage[a] = OPPORTUNITY
            accounts.since[a] = t
            move_members(a, UNAWARE, QUALIFIED, OPPORTUNITY, centres)
            outcome[i] = OPENED
        chance = min(1.0, float(approve[s]) * float(warmth[int(accounts.source[a])]))
        for row in rows(a, centres):
            if accounts.approvals[row] == 0 and uniform_py(int(key), row, P_APPROVE) < chance:
                accounts.approvals[row] = 1
        yes = sum(int(accounts.approvals[row]) for row in rows(a, centres))
        buyer_agrees = int(accounts.approvals[int(centres.first[a])]) == 1
        majority = yes > int(centres.size[a]) / 2
        discovered = t - int(accounts.since[a]) + 1 >= discovery
        if buyer_agrees and majority and discovered:
            accounts.stage[a] = PROPOSAL
            accounts.since[a] = t
            accounts.due[a] = t + proposal_steps
            outcome[i] = PROPOSED
    return outcome


def decide(
    accounts: AccountState,
    centres: Centres,
    key: np.uint64,
    deciding: np.ndarray,
    *,
    ours: np.ndarray,
    competition: np.ndarray,
    status_quo: np.ndarray,
    warmth: np.ndarray,
) -> np.ndarray:
    """Each deciding buying centre's choice; returns int64 WON, LOST_COMPETITOR, LOST_NO_DECISION.

    Our pull is (share of members who agreed) x warmth[source] x ours[segment]; each
    outcome's chance is its pull over the sum of the three. Convention: one draw u per
    account laid on [0, 1) in the order ours, competitor, status quo (u < ours / total
    wins, else u < (ours + competition) / total goes to the competitor, else no
    decision); with no pull at all (total 0) nobody decides: LOST_NO_DECISION.
    Convention: `decide` changes no state at all (`close` books the outcome), and takes
    the accounts given whatever their stage or due date.
    """
    outcome = np.zeros(len(deciding), dtype=np.int64)
    for i in range(len(deciding)):
        a = int(deciding[i])
        s = int(centres.segment[a])
        yes = sum(int(accounts.approvals[row]) for row in rows(a, centres))
        share = yes / int(centres.size[a])
        pull = share * float(warmth[int(accounts.source[a])]) * float(ours[s])
        rival, inertia = float(competition[s]), float(status_quo[s])
        total = pull + rival + inertia
        u = uniform_py(int(key), a, P_DECIDE)
        if total > 0.0 and u < pull / total:
            outcome[i] = WON
        elif total > 0.0 and u < (pull + rival) / total:
            outcome[i] = LOST_COMPETITOR
        else:
            outcome[i] = LOST_NO_DECISION
    return outcome


def close(accounts: AccountState, centres: Centres, closed: np.ndarray, won: np.ndarray) -> None:
    """Book each closed account's outcome, in order.

    Won: the account is a CUSTOMER and every member becomes a customer, whatever their
    stage; approvals are forgotten (the deal is done). Lost: `back_to_marketing`.
    Convention: `since`, `ready`, `due` and `source` are not changed either way.
    """
    for i in range(len(closed)):
        a = int(closed[i])
        if bool(won[i]):
            accounts.stage[a] = CUSTOMER
            move_members(a, UNAWARE, CUSTOMER, CUSTOMER, centres)
            for row in rows(a, centres):
                accounts.approvals[row] = 0
        else:
            back_to_marketing(a, accounts, centres)


def draws(key: np.uint64, candidates: np.ndarray, purpose: int) -> np.ndarray:
    """One float64 uniform per candidate, keyed by the candidate itself."""
    return np.array([uniform_py(int(key), int(c), purpose) for c in candidates], dtype=np.float64)


def random_first(key: np.uint64, candidates: np.ndarray, k: int, purpose: int) -> np.ndarray:
    """The first `k` (at most all) candidates ordered by their own draw.

    Convention: ties (a candidate listed twice) keep their order; the result has the
    candidates' dtype.
    """
    u = draws(key, candidates, purpose)
    order = sorted(range(len(candidates)), key=lambda i: u[i])  # Python's sort is stable
    return np.asarray(candidates)[np.array(order[:k], dtype=np.int64)]


def marketing_prospects(
    accounts: AccountState,
    centres: Centres,
    t: int,
    blocked_until: np.ndarray,
    in_target: np.ndarray,
) -> np.ndarray:
    """Accounts with marketing, in a targeted segment, not blocked, with a member aware or further.

    Convention: "not blocked" is t >= blocked_until[a] (the first step the account may
    be sold to again). Returns the accounts in increasing order, as int64.
    """
    out = [
        a
        for a in range(len(accounts.stage))
        if int(accounts.stage[a]) == WITH_MARKETING
        and bool(in_target[int(centres.segment[a])])
        and t >= int(blocked_until[a])
        and any(int(centres.stage[row]) >= AWARE for row in rows(a, centres))
    ]
    return np.array(out, dtype=np.int64)

"""The simulation behind the demo company: customers, purchases, the experiment, service and surveys.

Days are integers from the first day of the history (day 0) to as_of; every parameter comes from
:data:`custfocus.demo.planted.PLANTED` (see its module doc for what is planted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import special

from custfocus.demo.planted import (
    ACQUISITION_CHANNELS,
    APP,
    BILLING,
    CALL,
    CUSTOMER_SERVICE,
    DELIVERY,
    DEPARTMENTS,
    IT,
    LOGISTICS,
    PLANTED,
    RETURN,
    SALES,
    STORE,
    THEME,
    THEMES,
    TICKET,
    TOUCHPOINTS,
    WAREHOUSE,
    WEB,
    _mean_for_enps,
)


@dataclass(frozen=True)
class _Calendar:
    as_of: date
    history_days: int

    @property
    def first_day(self) -> date:
        return self.as_of - timedelta(days=self.history_days)

    @property
    def assignment_day(self) -> int:
        return self.history_days - PLANTED.experiment.days_before_as_of

    def dates(self, days: np.ndarray) -> pa.Array:
        epoch = (self.first_day - date(1970, 1, 1)).days
        return pa.array(np.asarray(days, dtype=np.int32) + np.int32(epoch), type=pa.date32())

    def days_of_year(self) -> np.ndarray:
        days = np.datetime64(self.first_day, "D") + np.arange(self.history_days + 1)
        return (days - days.astype("datetime64[Y]")).astype(np.int64) + 1


@dataclass
class _Customers:
    acquired: np.ndarray  # day of the first purchase
    segment: np.ndarray  # codes into SEGMENTS
    region: np.ndarray
    channel: np.ndarray  # acquisition channel, codes into ACQUISITION_CHANNELS
    acquisition_cost: np.ndarray
    home_channel: np.ndarray  # codes into ORDER_CHANNELS
    late_propensity: np.ndarray
    satisfaction: np.ndarray
    purchase_rate: np.ndarray  # lambda, per week
    dropout: np.ndarray  # p
    spend_rate: np.ndarray  # nu

    @property
    def count(self) -> int:
        return len(self.acquired)


@dataclass
class _BasePurchases:
    owner: np.ndarray  # customer index of each repeat purchase
    day: np.ndarray
    dropout_day: np.ndarray  # per customer, continuous; inf when still alive at as_of


@dataclass
class _Experiment:
    treated: np.ndarray  # customer indices
    control: np.ndarray
    extra_owner: np.ndarray  # one entry per extra order caused by the treatment
    extra_day: np.ndarray


@dataclass
class _Orders:
    customer: np.ndarray  # sorted by (day, customer); the position is the order number
    day: np.ndarray
    extra: np.ndarray  # caused by the experiment
    channel: np.ndarray
    product: np.ndarray
    amount: np.ndarray
    cost: np.ndarray


@dataclass
class _Events:
    """Service events, or a slice of them; ``late`` marks a late delivery or a contact it caused."""

    customer: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # codes into EVENT_KINDS
    cost: np.ndarray
    hours: np.ndarray
    department: np.ndarray
    late: np.ndarray

    @staticmethod
    def concat(parts: list[_Events]) -> _Events:
        return _Events(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Events)))

    def take(self, index: np.ndarray) -> _Events:
        return _Events(*(getattr(self, f.name)[index] for f in fields(_Events)))



def _codes(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    return rng.choice(len(shares), size=size, p=np.fromiter(shares.values(), float))


def _rank_matched(sample: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Hand an iid sample out in the order of ``score``: the marginal stays exactly the sample's."""
    matched = np.empty_like(sample)
    matched[np.argsort(score)] = np.sort(sample)
    return matched


def _correlated(rng: np.random.Generator, driver: np.ndarray, rho: float) -> np.ndarray:
    """A standard normal with correlation ``rho`` to the standard normal ``driver``."""
    return rho * driver + math.sqrt(1 - rho * rho) * rng.standard_normal(len(driver))


def _draw_customers(rng: np.random.Generator, n: int, calendar: _Calendar) -> _Customers:
    acq = PLANTED.acquisition
    day = np.arange(calendar.history_days + 1)
    season = 1 + acq.seasonal_amplitude * np.cos(
        2 * np.pi * (calendar.days_of_year() - acq.seasonal_peak_day_of_year) / 365.25)
    intake = (1 + acq.growth * day / calendar.history_days) * season
    cumulative = np.cumsum(intake) / intake.sum()
    acquired = np.sort(np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"),
                                  calendar.history_days))

    channel = _codes(rng, acq.channel_shares, n)
    mean_cost = np.fromiter(acq.mean_acquisition_cost.values(), float)[channel]
    # Store-acquired customers mostly keep buying in store; the others mostly online.
    home_shares = np.where((channel == ACQUISITION_CHANNELS.index("store"))[:, None],
                           [0.2, 0.1, 0.7], [0.55, 0.35, 0.10])
    home_channel = (rng.random(n)[:, None] > np.cumsum(home_shares, axis=1)[:, :2]).sum(axis=1)

    sat = PLANTED.satisfaction
    late_propensity = rng.standard_normal(n)
    satisfaction = _correlated(rng, late_propensity, -sat.rho_late_satisfaction)
    bg, spend = PLANTED.purchasing, PLANTED.spend
    return _Customers(
        acquired=acquired,
        segment=_codes(rng, acq.segment_shares, n),
        region=_codes(rng, acq.region_shares, n),
        channel=channel,
        acquisition_cost=np.round(rng.gamma(4.0, mean_cost / 4.0), 2),
        home_channel=home_channel,
        late_propensity=late_propensity,
        satisfaction=satisfaction,
        purchase_rate=rng.gamma(bg.r, 1 / bg.alpha, n),
        # Tiny floor: a p of exactly 0 is not a valid geometric parameter.
        dropout=np.maximum(_rank_matched(rng.beta(bg.a, bg.b, n),
                                         _correlated(rng, satisfaction, -sat.rho_satisfaction_dropout)),
                           1e-12),
        spend_rate=_rank_matched(rng.gamma(spend.q, 1 / spend.gamma, n),
                                 _correlated(rng, satisfaction, -sat.rho_satisfaction_spend)),
    )


def _draw_purchases(rng: np.random.Generator, people: _Customers, calendar: _Calendar) -> _BasePurchases:
    """BG/NBD repeat purchases over [0, age) days since each first purchase.

    Given N ~ Poisson(lambda age) events, their times are the order statistics of N uniforms; the
    customer drops out at the K-th, K ~ Geometric(p), so the first min(N, K) are kept. The first M of
    N sorted uniforms are S_k / (S_M + R), with S_k cumulative sums of M exponentials and
    R ~ Gamma(N - M + 1) standing in for the remaining spacings: no sort, no unused draws.
    """
    age_days = (calendar.history_days - people.acquired).astype(float)
    events = rng.poisson(people.purchase_rate * age_days / 7)
    kept = np.minimum(events, rng.geometric(people.dropout))
    dropped_out = kept < events
    owner = np.repeat(np.arange(people.count), kept)
    first = np.cumsum(kept) - kept
    sums = np.concatenate(([0.0], np.cumsum(rng.standard_exponential(kept.sum()))))
    partial = sums[1:] - sums[np.repeat(first, kept)]
    total = sums[first + kept] - sums[first] + rng.gamma(events - kept + 1.0)
    time = age_days[owner] * partial / total[owner]
    day = people.acquired[owner] + np.floor(time).astype(np.int64)
    dropout_day = np.full(people.count, np.inf)
    # K <= N: the customer is gone right after the last kept purchase.
    last = first + kept - 1
    dropout_day[dropped_out] = people.acquired[dropped_out] + time[last[dropped_out]]
    return _BasePurchases(owner=owner, day=day, dropout_day=dropout_day)


def _run_experiment(rng: np.random.Generator, people: _Customers, base: _BasePurchases,
                    calendar: _Calendar) -> _Experiment:
    plan = PLANTED.experiment
    start = calendar.assignment_day
    last_purchase = people.acquired.copy()
    before = base.day < start
    np.maximum.at(last_purchase, base.owner[before], base.day[before])
    eligible = (people.acquired < start) & (last_purchase >= start - plan.eligibility_days)
    drawn = rng.permutation(np.flatnonzero(eligible & (rng.random(people.count) < plan.share_assigned)))
    treated, control = np.sort(drawn[: len(drawn) // 2]), np.sort(drawn[len(drawn) // 2:])

    # Extra orders: a Poisson stream at uplift x lambda while alive, from assignment to as_of.
    exposure_days = np.clip(np.minimum(base.dropout_day[treated], calendar.history_days) - start,
                            0, None)
    uplift = np.fromiter(plan.uplift_by_segment.values(), float)[people.segment[treated]]
    extra = rng.poisson(uplift * people.purchase_rate[treated] * exposure_days / 7)
    extra_owner = np.repeat(treated, extra)
    extra_day = start + np.floor(np.repeat(exposure_days, extra) * rng.random(extra.sum()))
    return _Experiment(treated=treated, control=control, extra_owner=extra_owner,
                       extra_day=extra_day.astype(np.int64))


def _draw_orders(rng: np.random.Generator, people: _Customers, base: _BasePurchases,
                 experiment: _Experiment) -> _Orders:
    customer = np.concatenate([np.arange(people.count), base.owner, experiment.extra_owner])
    day = np.concatenate([people.acquired, base.day, experiment.extra_day])
    extra = np.repeat([False, True], [people.count + len(base.owner), len(experiment.extra_owner)])
    in_date_order = np.lexsort((customer, day))
    customer, day, extra = customer[in_date_order], day[in_date_order], extra[in_date_order]
    n = len(customer)

    spend = PLANTED.spend
    home = people.home_channel[customer]
    channel = np.where(rng.random(n) < spend.home_channel_loyalty, home, rng.integers(0, 3, n))
    # Free delivery only brings delivered orders.
    channel = np.where(extra, np.where(home == APP, APP, WEB), channel)
    product = _codes(rng, spend.product_shares, n)
    basket = np.where(extra, PLANTED.experiment.extra_basket_factor, 1.0)
    amount = np.maximum(np.round(rng.gamma(spend.p, 1 / people.spend_rate[customer]) * basket, 2), 0.01)
    cost_share = np.clip(np.fromiter(spend.product_cost_share.values(), float)[product]
                         + rng.normal(0, spend.cost_share_noise, n), 0.05, 0.95)
    return _Orders(customer=customer, day=day, extra=extra, channel=channel, product=product,
                   amount=amount, cost=np.round(amount * cost_share, 2))


@dataclass
class _Service:
    events: _Events
    order_late: np.ndarray  # per order: delivered late
    order_hours: np.ndarray  # per order: delivery hours, NaN in store
    order_arrival: np.ndarray  # per order: day the customer has the goods
    refund_order: np.ndarray  # index of each refunded order
    refund_day: np.ndarray


def _draw_service(rng: np.random.Generator, people: _Customers, orders: _Orders,
                  calendar: _Calendar) -> _Service:
    svc = PLANTED.service
    last_day = calendar.history_days
    n = len(orders.customer)
    delivered = orders.channel != STORE
    loading = svc.late_propensity_loading
    # Phi(c + loading u) with u ~ N(0, 1) averages to Phi(c / sqrt(1 + loading^2)).
    late_rates = np.fromiter(svc.late_rate_by_region.values(), float)
    threshold = special.ndtri(late_rates) * math.hypot(1, loading)
    late_probability = special.ndtr(threshold[people.region[orders.customer]]
                                    + loading * people.late_propensity[orders.customer])
    late = delivered & (rng.random(n) < late_probability)
    hours = np.round(np.where(late, svc.late_threshold_hours + 1 + rng.gamma(2.0, 30.0, n),
                              12 + 60 * rng.beta(2.0, 3.0, n)), 1)
    hours[~delivered] = np.nan
    arrival = orders.day + np.where(delivered, np.ceil(np.nan_to_num(hours) / 24), 0).astype(np.int64)

    def events(order_index, day, kind, cost, duration, department, late_flag):
        size = len(order_index)
        return _Events(orders.customer[order_index], day, np.full(size, kind), np.round(cost, 2),
                       np.round(duration, 2), np.broadcast_to(department, size).copy(),
                       np.broadcast_to(late_flag, size).copy())

    def lognormal(mean, size):  # exp(-0.02 + 0.2^2 / 2) = 1: the mean is kept
        return mean * rng.lognormal(-0.02, 0.2, size)

    parts = []
    shipped = np.flatnonzero(delivered)
    parts.append(events(shipped, arrival[shipped], DELIVERY,
                        np.clip(rng.normal(5.5, 0.4, len(shipped)), 3.0, None), hours[shipped],
                        LOGISTICS, late[shipped]))

    refunded = np.flatnonzero(rng.random(n) < PLANTED.spend.refund_rate)
    refund_day = arrival[refunded] + rng.integers(2, 22, len(refunded))
    parts.append(events(refunded, refund_day, RETURN, lognormal(7.0, len(refunded)),
                        24 + rng.gamma(2.0, 24.0, len(refunded)), WAREHOUSE, False))

    # "Where is my order?": the customer chases a late delivery four days after ordering; the
    # Logistics delivery desk answers.
    late_orders = np.flatnonzero(late)
    chased = late_orders[rng.random(len(late_orders)) < svc.late_ticket_rate]
    parts.append(events(chased, orders.day[chased] + 4, TICKET, lognormal(8.0, len(chased)),
                        rng.gamma(2.0, 10.0, len(chased)), LOGISTICS, True))
    called = late_orders[rng.random(len(late_orders)) < svc.late_call_rate]
    parts.append(events(called, orders.day[called] + 4, CALL, lognormal(4.0, len(called)),
                        rng.gamma(3.0, 0.05, len(called)), LOGISTICS, True))

    ticketed = np.flatnonzero(rng.random(n) < svc.ticket_rate)
    # App users' tickets are often about the app (IT); the rest about bills or general questions.
    topic_draw = rng.random(len(ticketed))
    on_app = orders.channel[ticketed] == APP
    department = np.where(on_app & (topic_draw < 0.5), IT,
                          np.where(topic_draw < np.where(on_app, 0.7, 0.35), BILLING, CUSTOMER_SERVICE))
    ticket_cost = np.select([department == IT, department == BILLING], [12.0, 10.0], 8.0)
    parts.append(events(ticketed, orders.day[ticketed] + rng.integers(1, 16, len(ticketed)), TICKET,
                        lognormal(ticket_cost, len(ticketed)), rng.gamma(2.0, 10.0, len(ticketed)),
                        department, False))
    phoned = np.flatnonzero(rng.random(n) < svc.call_rate)
    parts.append(events(phoned, orders.day[phoned] + rng.integers(0, 11, len(phoned)), CALL,
                        lognormal(4.0, len(phoned)), rng.gamma(3.0, 0.05, len(phoned)),
                        CUSTOMER_SERVICE, False))

    all_events = _Events.concat(parts)
    all_events = all_events.take(np.flatnonzero(all_events.day <= last_day))
    all_events = all_events.take(np.lexsort((all_events.customer, all_events.day)))
    in_window = refund_day <= last_day
    return _Service(events=all_events, order_late=late, order_hours=hours, order_arrival=arrival,
                    refund_order=refunded[in_window], refund_day=refund_day[in_window])


PHRASES = {
    "late delivery": (
        "My parcel arrived three days late.",
        "The delivery was delayed and nobody told me why.",
        "Package didn't arrive on time.",
        "I waited over a week for my order to be delivered.",
        "Delivery came much later than promised.",
        "The order showed up late again.",
        "Still waiting on a delayed delivery, very frustrating.",
        "The gift came after the birthday because the delivery was late.",
    ),
    "product quality": (
        "The product broke after a week.",
        "Poor quality, the item looked cheap.",
        "The material felt flimsy.",
        "Quality has gone down, it stopped working quickly.",
        "Not the quality I expected.",
    ),
    "app problems": (
        "The app keeps crashing at checkout.",
        "I couldn't log in to the app.",
        "The app is slow and the payment failed twice.",
        "The app froze when I tried to pay.",
        "Annoying bugs in the app.",
    ),
    "price": (
        "Prices are higher than elsewhere.",
        "A bit too expensive for what you get.",
        "I found the same items cheaper at another shop.",
        "The prices went up again.",
        "Too pricey compared to competitors.",
    ),
    "friendly staff": (
        "The staff were friendly and helpful.",
        "Lovely people, very kind.",
        "The assistant went out of her way to help me.",
        "Friendly service, they answered all my questions.",
        "Great, helpful staff.",
    ),
    "fast delivery": (
        "Fast delivery, it arrived the next day.",
        "Delivery was quick.",
        "My order arrived sooner than expected.",
        "Super fast shipping.",
        "Quick delivery and well packed.",
    ),
}
GENERIC_PHRASES = {
    "detractor": ("Not happy with this order.", "Disappointing.", "I expected better.",
                  "I will think twice before ordering again."),
    "passive": ("It was okay.", "Nothing special.", "Fine, but could be better.", "Average experience."),
    "promoter": ("Great shop, I will buy again.", "Very happy overall.",
                 "Everything was fine, thank you.", "Always a good experience."),
}


@dataclass
class _Experiences:
    """What a surveyed customer went through: one row per survey answer."""

    customer: np.ndarray
    day: np.ndarray
    touchpoint: np.ndarray
    department: np.ndarray
    themes: np.ndarray  # bool, (rows, len(THEMES))

    @staticmethod
    def concat(parts: list[_Experiences]) -> _Experiences:
        return _Experiences(*(np.concatenate([getattr(p, f.name) for p in parts])
                              for f in fields(_Experiences)))


def _draw_surveys(rng: np.random.Generator, people: _Customers, orders: _Orders, service: _Service,
                  calendar: _Calendar) -> pa.Table:
    voice = PLANTED.voice
    last_day = calendar.history_days
    events = service.events

    # NPS after an order has arrived.
    surveyed = np.flatnonzero(rng.random(len(orders.customer)) < voice.nps_survey_rate_per_order)
    surveyed = surveyed[service.order_arrival[surveyed] <= last_day]
    size = len(surveyed)
    in_store = orders.channel[surveyed] == STORE
    late = service.order_late[surveyed]
    # Which themes happened, with the chances of the module doc (item 5).
    themes = np.zeros((size, len(THEMES)), dtype=bool)
    themes[:, THEME["late delivery"]] = late
    themes[:, THEME["product quality"]] = rng.random(size) < 0.05
    themes[:, THEME["app problems"]] = (orders.channel[surveyed] == APP) & (rng.random(size) < 0.15)
    themes[:, THEME["price"]] = rng.random(size) < 0.12
    themes[:, THEME["friendly staff"]] = in_store & (rng.random(size) < 0.35)
    themes[:, THEME["fast delivery"]] = (~in_store & ~late & (service.order_hours[surveyed] < 30)
                                         & (rng.random(size) < 0.6))
    after_orders = _Experiences(
        customer=orders.customer[surveyed], day=service.order_arrival[surveyed],
        touchpoint=np.where(in_store, TOUCHPOINTS.index("store"), TOUCHPOINTS.index("delivery")),
        department=np.where(in_store, SALES, LOGISTICS), themes=themes)

    # NPS after a ticket or a call.
    contacts = np.flatnonzero((events.kind == TICKET) | (events.kind == CALL))
    asked = contacts[rng.random(len(contacts)) < voice.nps_survey_rate_per_contact]
    size = len(asked)
    themes = np.zeros((size, len(THEMES)), dtype=bool)
    themes[:, THEME["late delivery"]] = events.late[asked]
    themes[:, THEME["product quality"]] = rng.random(size) < 0.05
    themes[:, THEME["app problems"]] = (events.department[asked] == IT) & (rng.random(size) < 0.5)
    themes[:, THEME["price"]] = rng.random(size) < 0.12
    themes[:, THEME["friendly staff"]] = rng.random(size) < 0.25
    after_contacts = _Experiences(
        customer=events.customer[asked], day=events.day[asked],
        touchpoint=np.where(events.kind[asked] == TICKET, TOUCHPOINTS.index("support ticket"),
                            TOUCHPOINTS.index("phone call")),
        department=events.department[asked], themes=themes)

    nps = _Experiences.concat([after_orders, after_contacts])
    enps = np.fromiter((PLANTED.people.enps[d] for d in DEPARTMENTS), float)
    latent = (voice.nps_base + voice.nps_satisfaction_loading * people.satisfaction[nps.customer]
              + PLANTED.people.customer_shift_per_enps_point * enps[nps.department]
              + nps.themes @ np.array([voice.theme_effects[t] for t in THEMES])
              + rng.normal(0, voice.nps_noise, len(nps.customer)))
    nps_score = np.clip(np.rint(latent), 0, 10).astype(np.int64)
    comments = _comments(rng, nps.themes, nps_score)

    # CSAT after deliveries and contacts; CES after contacts and returns.
    kind = events.kind
    csat_rate = np.where(kind == DELIVERY, 0.03, 0.20)
    csat = np.flatnonzero(rng.random(len(kind)) < csat_rate)
    csat_score = np.clip(np.rint(3.9 + 0.6 * people.satisfaction[events.customer[csat]]
                                 - 1.5 * events.late[csat] + rng.normal(0, 0.8, len(csat))), 1, 5)
    ces = np.flatnonzero((kind != DELIVERY) & (rng.random(len(kind)) < 0.12))
    ces_score = np.clip(np.rint(5.2 + 0.5 * people.satisfaction[events.customer[ces]]
                                - 1.0 * events.late[ces] - 0.02 * np.minimum(events.hours[ces], 48)
                                + rng.normal(0, 1.0, len(ces))), 1, 7)
    event_touchpoint = np.array([TOUCHPOINTS.index(t) for t in
                                 ("delivery", "support ticket", "phone call", "return")])[kind]

    customer = np.concatenate([nps.customer, events.customer[csat], events.customer[ces]])
    day = np.concatenate([nps.day, events.day[csat], events.day[ces]])
    day = day + rng.integers(0, 5, len(day))
    score = np.concatenate([nps_score, csat_score, ces_score]).astype(np.int64)
    survey_kind = np.repeat([0, 1, 2], [len(nps_score), len(csat), len(ces)])
    touchpoint = np.concatenate([nps.touchpoint, event_touchpoint[csat], event_touchpoint[ces]])
    department = np.concatenate([nps.department, events.department[csat], events.department[ces]])
    comment = pa.concat_arrays([comments, pa.nulls(len(csat) + len(ces), pa.string())])

    keep = np.flatnonzero(day <= last_day)
    keep = keep[np.lexsort((customer[keep], day[keep]))]
    return pa.table({
        "date": calendar.dates(day[keep]),
        "score": pa.array(score[keep], pa.int64()),
        "kind": _labels(("nps", "csat", "ces"), survey_kind[keep]),
        "customer_id": _customer_ids(customer[keep], people.count),
        "comment": comment.take(pa.array(keep)),
        "touchpoint": _labels(TOUCHPOINTS, touchpoint[keep]),
        "department": _labels(DEPARTMENTS, department[keep]),
    })


def _comments(rng: np.random.Generator, themes: np.ndarray, score: np.ndarray) -> pa.Array:
    """Plain-English comments: one sentence per mentioned theme, or a generic one matching the score."""
    voice = PLANTED.voice
    rows = len(score)
    commented = rng.random(rows) < voice.comment_rate
    mentioned = themes & commented[:, None] & (rng.random(themes.shape) < voice.theme_mention_rate)
    sentences = [_pick(rng, PHRASES[theme], mentioned[:, i]) for i, theme in enumerate(THEMES)]
    band = np.where(score <= 6, 0, np.where(score <= 8, 1, 2))
    generic = np.concatenate(list(GENERIC_PHRASES.values()))
    per_band = len(GENERIC_PHRASES["promoter"])
    generic_choice = band * per_band + rng.integers(0, per_band, rows)
    sentences.append(pa.array(generic).take(
        pa.array(generic_choice, mask=~(commented & ~mentioned.any(axis=1)))))
    joined = pc.binary_join_element_wise(*(pc.fill_null(s, "") for s in sentences), " ")
    joined = pc.replace_substring_regex(pc.utf8_trim_whitespace(joined), " {2,}", " ")
    return pc.if_else(pa.array(commented), joined, pa.scalar(None, pa.string()))


def _pick(rng: np.random.Generator, phrases: tuple[str, ...], where: np.ndarray) -> pa.Array:
    choice = rng.integers(0, len(phrases), len(where))
    return pa.array(phrases).take(pa.array(choice, mask=~where))


def _draw_staff_surveys(rng: np.random.Generator, customers: int,
                        calendar: _Calendar) -> tuple[pa.Table, pa.Table]:
    people = PLANTED.people
    headcount = np.array([max(5, round(people.headcount_per_20k_customers[d] * customers / 20_000))
                          for d in DEPARTMENTS])
    department = np.repeat(np.arange(len(DEPARTMENTS)), headcount)
    staff = len(department)
    waves = np.arange(45, calendar.history_days + 1, 91)  # quarterly pulses
    noise = 1.2
    employee_effect = rng.standard_normal(staff)
    mu = np.array([_mean_for_enps(people.enps[d], math.hypot(1.0, noise)) for d in DEPARTMENTS])

    wave, employee = (a.ravel() for a in np.meshgrid(waves, np.arange(staff), indexing="ij"))
    answered = rng.random(len(wave)) < 0.75
    wave, employee = wave[answered], employee[answered]
    day = wave + rng.integers(0, 14, len(wave))
    score = np.clip(np.rint(mu[department[employee]] + employee_effect[employee]
                            + rng.normal(0, noise, len(wave))), 0, 10).astype(np.int64)
    keep = np.flatnonzero(day <= calendar.history_days)
    keep = keep[np.lexsort((employee[keep], day[keep]))]
    employee_responses = pa.table({
        "department": _labels(DEPARTMENTS, department[employee[keep]]),
        "date": calendar.dates(day[keep]),
        "score": pa.array(score[keep], pa.int64()),
        "employee_id": _ids("E", employee[keep], max(5, len(str(staff - 1)))),
    })

    pairs = [(DEPARTMENTS.index(f), DEPARTMENTS.index(t), mu_pair)
             for (f, t), mu_pair in people.internal_mu.items()]
    from_dept, to_dept, pair_mu = (np.array(col) for col in zip(*pairs))
    # Every employee of the rating department is asked about each department it depends on.
    pair_of, rater_wave = [], []
    for pair, rater_department in enumerate(from_dept):
        raters = np.flatnonzero(department == rater_department)
        grid = np.repeat(waves, len(raters))
        pair_of.append(np.full(len(grid), pair))
        rater_wave.append(grid)
    pair_of, rater_wave = np.concatenate(pair_of), np.concatenate(rater_wave)
    answered = rng.random(len(pair_of)) < 0.3
    pair_of, rater_wave = pair_of[answered], rater_wave[answered]
    day = rater_wave + rng.integers(0, 14, len(rater_wave))
    score = np.clip(np.rint(pair_mu[pair_of] + rng.normal(0, people.internal_noise, len(pair_of))),
                    0, 10).astype(np.int64)
    keep = np.flatnonzero(day <= calendar.history_days)
    keep = keep[np.lexsort((pair_of[keep], day[keep]))]
    internal_responses = pa.table({
        "from_department": _labels(DEPARTMENTS, from_dept[pair_of[keep]]),
        "to_department": _labels(DEPARTMENTS, to_dept[pair_of[keep]]),
        "date": calendar.dates(day[keep]),
        "score": pa.array(score[keep], pa.int64()),
    })
    return employee_responses, internal_responses


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids such as C000123, built as one byte buffer (fast for millions)."""
    size, length = len(numbers), len(prefix) + width
    chars = np.empty((size, length), dtype=np.uint8)
    chars[:, : len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    rest = np.asarray(numbers, dtype=np.int64)
    for column in range(length - 1, len(prefix) - 1, -1):
        rest, digit = np.divmod(rest, 10)
        chars[:, column] = digit + ord("0")
    offsets = np.arange(0, (size + 1) * length, length, dtype=np.int32)
    return pa.StringArray.from_buffers(size, pa.py_buffer(offsets), pa.py_buffer(chars))


def _customer_ids(index: np.ndarray, customers: int) -> pa.Array:
    return _ids("C", index, max(6, len(str(customers - 1))))


def _labels(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    return pa.array(names).take(pa.array(np.asarray(codes, dtype=np.int64)))

"""The rollout decision: does this person's benefit go to the card account, and why.

`switch_decision` is pure: it reads the facts it is given (rules, card record, preference) and nothing else,
so the policy lives in the RolloutRule rows and in this one function.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import models


class Decision(models.TextChoices):
    SWITCH = "switch", "切换到社保卡账户"
    STAY = "stay", "维持原账户"
    EXEMPT = "exempt", "按原办法发放，不切换"
    WAIT_CARD = "wait_card", "待制卡或激活金融功能后切换"
    NOT_YET = "not_yet", "尚未到社保卡发放起始期"


class RuleLike(Protocol):
    category: str
    pays_from: int
    exempt: bool
    auto_born_on_or_after: dt.date | None
    requires_activated_card: bool
    auto_requires_in_region: bool


@dataclass(frozen=True)
class PersonFacts:
    """What the decision needs to know about a person."""

    birth_date: dt.date
    lives_in_region: bool
    categories: frozenset[str]


@dataclass(frozen=True)
class CardFacts:
    """The person's matched card: made (has a number), usable (state normal) and financially activated."""

    has_card: bool
    usable: bool
    fin_activated: bool


def person_facts(person: Any, categories: Iterable[str] | None = None) -> PersonFacts:
    if categories is None:
        categories = person.categories.values_list("category", flat=True)
    return PersonFacts(
        birth_date=person.birth_date,
        lives_in_region=bool(person.lives_in_region),
        categories=frozenset(categories),
    )


def card_facts(record: Any | None) -> CardFacts | None:
    """From a matched CardSystemRecord (or anything with card_no, card_state, fin_activated)."""
    if record is None:
        return None
    return CardFacts(
        has_card=bool(record.card_no),
        usable=record.card_state == "normal",
        fin_activated=bool(record.fin_activated),
    )


def rules_in_force(rules: Sequence[RuleLike], category: str, period: int) -> RuleLike | None:
    """The category's rule with the latest pays_from not after `period`."""
    best: RuleLike | None = None
    for rule in rules:
        if (
            rule.category == category
            and rule.pays_from <= period
            and (best is None or rule.pays_from > best.pays_from)
        ):
            best = rule
    return best


def switch_decision(
    person: PersonFacts,
    card: CardFacts | None,
    rules: Sequence[RuleLike],
    preference: str | None,
    *,
    period: int,
) -> tuple[Decision, str]:
    """Decide for one person at one period. `preference` is "switch", "stay" or None (no request).

    The payment account belongs to the person, not to a benefit, so:
    - a category whose rule is exempt (离休干部 medical benefits are paid as before) keeps the old account;
    - the person switches automatically when any category in force allows it for them;
    - whoever does not meet an automatic condition (70 and over at the cut-off, living outside the
      region) stays on the old account unless they ask to switch;
    - a request to stay is honoured; a request to switch still needs a usable, activated card.
    """
    own_rules = [rules_in_force(rules, c, period) for c in sorted(person.categories)]
    if any(r is not None and r.exempt for r in own_rules):
        return Decision.EXEMPT, "该类待遇按原办法发放（如离休干部医疗待遇）"
    in_force = [r for r in own_rules if r is not None]
    if not in_force:
        return Decision.NOT_YET, "本人待遇类别尚未到社保卡发放起始期"
    if preference == "stay":
        return Decision.STAY, "本人申请维持原账户"
    needs_activation = any(r.requires_activated_card for r in in_force)
    if card is None or not card.has_card:
        return Decision.WAIT_CARD, "尚未制卡，请指引本人申领社保卡"
    if not card.usable:
        return Decision.WAIT_CARD, "社保卡挂失、锁定或封存，待恢复正常后切换"
    if needs_activation and not card.fin_activated:
        return Decision.WAIT_CARD, "社保卡金融功能未激活，请督促本人到银行激活"
    if preference == "switch":
        return Decision.SWITCH, "本人申请切换到社保卡账户"
    reasons: list[str] = []
    for rule in in_force:
        too_old = rule.auto_born_on_or_after is not None and person.birth_date < rule.auto_born_on_or_after
        outside = rule.auto_requires_in_region and not person.lives_in_region
        if not too_old and not outside:
            return Decision.SWITCH, "符合自动切换条件"
        if too_old:
            assert rule.auto_born_on_or_after is not None
            reasons.append(f"{rule.auto_born_on_or_after:%Y年%m月%d日}前出生")
        if outside:
            reasons.append("居住在统筹区外")
    detail = "、".join(dict.fromkeys(reasons))
    return Decision.STAY, f"{detail}，维持原发放方式，本人申请后可切换"

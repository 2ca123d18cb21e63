"""Demo cards, entitlements, certifications and payrolls for the seeded county, so that every page has
something real to show. Deterministic for a seed; written set-based (bulk inserts, then the payroll
services for the payrolls themselves, which audit as usual). Runs once: a county with cards is left alone.

What it writes, for the persons of the region:
- a card for most beneficiaries and some insured people, in the states a real county has at once
  (most issued and activated, some waiting at an outlet, in transit, in production, a few lost or
  failed), each with the vault-ledger lines its state implies; an issued card with an activated
  financial function carries the person's card account when they are already paid on the card;
- entitlements with an amount row for every beneficiary (pension, work injury, unemployment);
- a certification within the last 12 months for most recipients (some overdue, some due soon);
- the employee-pension payroll of last month approved and filed, and this month's as a draft.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from shebao.accounts.models import User
from shebao.accounts.roles import Role
from shebao.core.errors import DomainError
from shebao.core.values.bank import luhn_check_digit, make_card_uid
from shebao.core.values.period import next_period, period_of, prev_period
from shebao.orgs.models import Outlet, Region
from shebao.people.models import BenefitCategory, PaymentAccount, Person, PersonCategory

T = TypeVar("T")
CHUNK = 2000

# Which monthly benefit a category draws, and the range of its monthly amount (yuan).
MONTHLY = {
    BenefitCategory.ENTERPRISE_RETIREE: ("PEN-EMP", 1900, 4800),
    BenefitCategory.INSTITUTION_RETIREE: ("PEN-EMP", 3200, 7600),
    BenefitCategory.RESIDENT_PENSIONER: ("PEN-RES", 140, 420),
    BenefitCategory.WORK_INJURY: ("INJ-PERIODIC", 1500, 3200),
    BenefitCategory.UNEMPLOYMENT: ("UNEMP", 1380, 1710),
}

# (card state, share) for the persons who have a card record.
CARD_STATES = [
    ("issued", 0.78),
    ("in_stock", 0.07),
    ("shipped", 0.03),
    ("produced", 0.03),
    ("in_production", 0.03),
    ("applied", 0.03),
    ("temporarily_lost", 0.01),
    ("formally_lost", 0.01),
    ("production_failed", 0.01),
]
PRODUCED = {"produced", "shipped", "in_stock", "issued", "temporarily_lost", "formally_lost"}


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _years_later(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _pick(rng: random.Random, table: list[tuple[str, float]]) -> str:
    roll, total = rng.random(), 0.0
    for value, share in table:
        total += share
        if roll < total:
            return value
    return table[-1][0]


def seed_domain(*, region: Region, as_of: dt.date, seed: int) -> dict[str, int]:
    """Write the demo cards, entitlements, certifications and payrolls of ``region``; returns row counts."""
    from shebao.cards.models import Card

    if Card.objects.filter(person__region=region).exists():
        return {}
    rng = random.Random(seed * 7919 + 17)
    clerk = User.objects.filter(role=Role.CENTRE_CLERK, region=region).order_by("pk").first()
    supervisor = User.objects.filter(role=Role.CENTRE_SUPERVISOR, region=region).order_by("pk").first()
    if clerk is None or supervisor is None:
        return {}
    created: dict[str, int] = {}
    with transaction.atomic():
        created.update(_cards(region, as_of, rng, clerk))
        created.update(_entitlements(region, as_of, rng, clerk))
    created.update(_payrolls(region, as_of, clerk, supervisor))
    with transaction.atomic():
        created.update(_campaign(region, as_of, clerk))
        created.update(_applications(region, clerk))
    created.update(_switching(region, as_of, clerk))
    return created


def _cards(region: Region, as_of: dt.date, rng: random.Random, clerk: User) -> dict[str, int]:
    from shebao.cards.models import Card, CardMovement
    from shebao.cards.services import centre_location, outlet_location

    outlets_by_bank: dict[int, list[Outlet]] = {}
    for outlet in Outlet.objects.filter(region=region, bank__isnull=False).order_by("pk"):
        outlets_by_bank.setdefault(outlet.bank_id, []).append(outlet)  # type: ignore[arg-type]
    if not outlets_by_bank:
        return {}
    bank_ids = sorted(outlets_by_bank)
    beneficiaries = set(
        PersonCategory.objects.filter(person__region=region).values_list("person_id", flat=True)
    )
    card_accounts: dict[int, tuple[int, str]] = {
        pid: (bank_id, no)
        for pid, bank_id, no in PaymentAccount.objects.filter(
            person__region=region, kind=PaymentAccount.Kind.CARD, bank__isnull=False
        ).values_list("person_id", "bank_id", "account_no")
    }
    now = timezone.now()
    centre = centre_location(region)
    locations = {o.pk: outlet_location(o) for outs in outlets_by_bank.values() for o in outs}
    cards: list[Card] = []
    plans: list[tuple[str, int | None]] = []
    persons = Person.objects.filter(region=region, death_date__isnull=True).order_by("pk")
    for n, pid in enumerate(persons.values_list("pk", flat=True), start=1):
        has_card_account = pid in card_accounts
        if not has_card_account and pid not in beneficiaries and rng.random() > 0.35:
            continue
        state = "issued" if has_card_account else _pick(rng, CARD_STATES)
        bank_id, account = card_accounts.get(pid) or (rng.choice(bank_ids), "")
        produced = state in PRODUCED
        if produced and not account:
            head = f"62170{bank_id % 10}{n:012d}"
            account = head + luhn_check_digit(head)
        issue = as_of - dt.timedelta(days=rng.randint(20, 2400)) if produced else None
        issued = state in {"issued", "temporarily_lost", "formally_lost"}
        fin = issued and (has_card_account or rng.random() < 0.82)
        ss = issued and (fin or rng.random() < 0.9)
        activated_at = (
            timezone.make_aware(
                dt.datetime.combine(issue + dt.timedelta(days=rng.randint(5, 60)), dt.time(10))
            )
            if issued and issue
            else None
        )
        outlet = rng.choice(outlets_by_bank[bank_id])
        cards.append(
            Card(
                person_id=pid,
                bank_id=bank_id,
                generation=3 if issue and issue.year >= 2024 else 2,
                state=state,
                card_no=f"Y{n:08d}" if produced else None,
                card_uid=make_card_uid(region.code[:6], n) if produced else "",
                bank_account=account if produced else "",
                issue_date=issue,
                expiry_date=_years_later(issue, 10) if issue else None,
                failure_stage="factory" if state == "production_failed" else "",
                failure_reason="照片不合格，请重新采集" if state == "production_failed" else "",
                ss_activated_at=activated_at if ss else None,
                ss_activated_place=outlet.name if ss else "",
                ss_activated_channel="window" if ss else "",
                fin_activated_at=activated_at if fin else None,
                fin_activated_place=outlet.name if fin else "",
                fin_activated_channel="counter" if fin else "",
            )
        )
        plans.append((state, outlet.pk if produced and state != "produced" else None))
    for chunk in _chunks(cards):
        Card.objects.bulk_create(chunk)
    saved = list(
        Card.objects.filter(person__region=region).order_by("pk").values_list("pk", "state", "person_id")
    )
    outlet_of = {c.person_id: plan[1] for c, plan in zip(cards, plans, strict=True)}
    moves: list[CardMovement] = []
    for card_id, state, pid in saved:
        if state not in PRODUCED:
            continue
        at = now - dt.timedelta(days=30)
        moves.append(
            CardMovement(card_id=card_id, location=centre, kind="received", custodian="中心库管员", at=at)
        )
        if state == "produced":
            continue
        moves.append(
            CardMovement(card_id=card_id, location=centre, kind="handed_over", custodian="中心库管员", at=at)
        )
        if state == "shipped":
            continue
        loc = locations[outlet_of[pid]]  # type: ignore[index]
        moves.append(
            CardMovement(card_id=card_id, location=loc, kind="received", custodian="网点库管员", at=at)
        )
        if state != "in_stock":
            moves.append(
                CardMovement(card_id=card_id, location=loc, kind="issued", custodian="网点柜员", at=at)
            )
    for move_chunk in _chunks(moves):
        CardMovement.objects.bulk_create(move_chunk)
    return {"社保卡 cards": len(cards), "卡片流转记录 card ledger lines": len(moves)}


def _entitlements(region: Region, as_of: dt.date, rng: random.Random, clerk: User) -> dict[str, int]:
    from shebao.payments.models import BenefitType, Certification, Entitlement, EntitlementAmount

    types = {t.code: t for t in BenefitType.objects.all()}
    rows = list(
        PersonCategory.objects.filter(
            person__region=region, person__death_date__isnull=True, category__in=list(MONTHLY)
        )
        .order_by("person_id", "category")
        .values_list("person_id", "category")
    )
    entitlements: list[Entitlement] = []
    amounts: list[Decimal] = []
    seen: set[tuple[int, str]] = set()
    this_period = period_of(as_of)
    for pid, category in rows:
        code, low, high = MONTHLY[category]  # type: ignore[index]
        if code not in types or (pid, code) in seen:
            continue
        seen.add((pid, code))
        start = prev_period(this_period, rng.randint(3, 120))
        entitlements.append(
            Entitlement(person_id=pid, benefit_type=types[code], from_period=start, created_by=clerk)
        )
        amounts.append(Decimal(rng.randint(low * 100, high * 100)) / 100)
    for chunk in _chunks(entitlements):
        Entitlement.objects.bulk_create(chunk)
    ids = dict(
        ((pid, code), pk)
        for pk, pid, code in Entitlement.objects.filter(person__region=region).values_list(
            "pk", "person_id", "benefit_type__code"
        )
    )
    amount_rows = [
        EntitlementAmount(
            entitlement_id=ids[(e.person_id, e.benefit_type.code)],
            amount=amount,
            valid_from=e.from_period,
            note="演示数据",
            created_by=clerk,
        )
        for e, amount in zip(entitlements, amounts, strict=True)
    ]
    for amount_chunk in _chunks(amount_rows):
        EntitlementAmount.objects.bulk_create(amount_chunk)
    channels = [c for c, _label in Certification.Channel.choices]
    certifications = []
    for pid in sorted({e.person_id for e in entitlements}):
        roll = rng.random()
        days = (
            rng.randint(400, 500)
            if roll < 0.04
            else rng.randint(330, 364)
            if roll < 0.12
            else rng.randint(5, 320)
        )
        certifications.append(
            Certification(
                person_id=pid,
                certified_on=as_of - dt.timedelta(days=days),
                channel=rng.choice(channels),
                note="演示数据",
                recorded_by=clerk,
            )
        )
    for cert_chunk in _chunks(certifications):
        Certification.objects.bulk_create(cert_chunk)
    return {
        "待遇资格 entitlements": len(entitlements),
        "待遇金额 entitlement amounts": len(amount_rows),
        "资格认证 certifications": len(certifications),
    }


def _payrolls(region: Region, as_of: dt.date, clerk: User, supervisor: User) -> dict[str, int]:
    from shebao.payments.models import BenefitType, Payroll
    from shebao.payments.services import payroll_approve, payroll_file, payroll_generate

    pension = BenefitType.objects.filter(code="PEN-EMP").first()
    if pension is None:
        return {}
    this_period = period_of(as_of)
    last = payroll_generate(region=region, period=prev_period(this_period), benefit_type=pension, actor=clerk)
    payroll_approve(payroll=last, actor=supervisor)
    try:
        files = payroll_file(payroll=last, actor=clerk)
    except DomainError:
        # A line the bank layout cannot carry (a rare character outside GBK) stops the whole file step:
        # the demo leaves last month approved for a clerk to see and resolve, as a real centre would.
        files = []
    payroll_generate(region=region, period=this_period, benefit_type=pension, actor=clerk)
    lines = sum(p.lines.count() for p in Payroll.objects.filter(region=region))
    return {"发放表 payrolls": 2, "发放明细 payment lines": lines, "代发文件 bank files": len(files)}


def _campaign(region: Region, as_of: dt.date, clerk: User) -> dict[str, int]:
    """A third-generation replacement campaign (文登 style): this month the demo unit clerk's unit collects
    its retirees' new cards as a unit (applications made, waiting for the factory); next month the sweep."""
    from shebao.campaigns.models import TargetGroup
    from shebao.campaigns.services import (
        campaign_create,
        members_assign,
        phase_applications_create,
        phase_create,
    )
    from shebao.cards.models import Generation

    unit_user = (
        User.objects.filter(role=Role.UNIT_CLERK, employer__region=region, username="unit").first()
        or User.objects.filter(role=Role.UNIT_CLERK, employer__region=region).order_by("pk").first()
    )
    from django.db.models import Count

    from shebao.cards.models import Card
    from shebao.orgs.models import Employer

    old_holders = (
        Card.objects.filter(generation=Generation.SECOND, state="issued", person__region=region)
        .exclude(person__employer=None)
        .values("person__employer")
        .annotate(n=Count("pk"))
    )
    counts = {row["person__employer"]: row["n"] for row in old_holders}
    if not counts:
        return {}
    # the demo unit clerk's own unit when it has second-generation holders, else the unit with the most
    own = unit_user.employer_id if unit_user else None
    unit_id = own if own is not None and counts.get(own) else max(counts, key=counts.__getitem__)
    unit = Employer.objects.get(pk=unit_id)
    campaign = campaign_create(
        name="第三代社保卡换发",
        transition_end=_years_later(as_of, 1),
        actor=clerk,
        old_generation=Generation.SECOND,
        new_generation=Generation.THIRD,
        note="二代卡在过渡期内继续使用；新卡社保功能启用后医保个人账户余额转入新卡",
    )
    this_period = period_of(as_of)
    # the unit collects at the demo bank clerk's outlet (the card bank's branch), as a unit (集中领卡)
    bank_user = User.objects.filter(role=Role.BANK_CLERK, outlet__region=region).order_by("pk").first()
    outlet = bank_user.outlet if bank_user else None
    proxy = phase_create(
        campaign=campaign,
        month=this_period,
        group=TargetGroup.UNIT_PROXY,
        actor=clerk,
        units=[unit],
        outlet=outlet,
    )
    assigned = members_assign(phase=proxy, actor=clerk).assigned
    applied = phase_applications_create(phase=proxy, actor=clerk)
    phase_create(campaign=campaign, month=next_period(this_period), group=TargetGroup.SWEEP, actor=clerk)
    return {
        "换卡批次 campaigns": 1,
        "换卡人员 campaign members": assigned,
        "换代申领 campaign applications": applied,
    }


def _switching(region: Region, as_of: dt.date, clerk: User) -> dict[str, int]:
    """The account switch under way: a comparison against shebao's own cards, this month's verification
    forms for every unit and township with people to verify, and a notice on their start pages."""
    from shebao.switching.cardsources import OWN_CARDS_DESCRIPTION
    from shebao.switching.comparison import comparison_create, comparison_from_own_cards
    from shebao.switching.models import ComparisonRun
    from shebao.switching.services import forms_generate, notice_publish

    run = comparison_create(
        region=region,
        source_description=OWN_CARDS_DESCRIPTION,
        actor=clerk,
        source_kind=ComparisonRun.Source.OWN_CARDS,
    )
    comparison_from_own_cards(run=run, actor=clerk)
    forms = forms_generate(actor=clerk, period=period_of(as_of))
    notice_publish(
        actor=clerk,
        title="关于做好待遇发放账户更换为社保卡账户核实工作的通知",
        body=(
            "请各单位、各乡镇（街道）经办员登录本系统下载本单位（本乡镇）的核实反馈表，逐人核实后于"
            "下载次月15日前上传填好的表格及加盖公章的扫描件。已领取社保卡但未激活金融功能的人员，请提醒其"
            "持卡和身份证到合作银行网点激活。"
        ),
    )
    return {"比对批次 comparison runs": 1, "核实反馈表 verification forms": len(forms)}


def _demo_photo_png(width: int = 60, height: int = 80) -> bytes:
    """A plain grey portrait-sized PNG (stands in for the photo taken at the window)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xc8\xcc\xd2" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _applications(region: Region, clerk: User) -> dict[str, int]:
    """Every card waiting for the factory has its window application with a photo, so the demo clerk can
    make a production batch at once (a real window takes the photo when it accepts the application)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from shebao.cards.models import Card, CardApplication, DeliveryMode

    waiting = list(
        Card.objects.filter(
            person__region=region, state__in=("applied", "production_failed"), application__isnull=True
        ).order_by("pk")
    )
    unphotographed = CardApplication.objects.filter(person__region=region, photo="")
    if not waiting and not unphotographed.exists():
        return {}
    photo = default_storage.save("cards/photos/demo/window.png", ContentFile(_demo_photo_png()))
    first_outlet: dict[int, int] = {}
    for outlet_id, bank_id in (
        Outlet.objects.filter(region=region, bank__isnull=False).order_by("pk").values_list("pk", "bank_id")
    ):
        first_outlet.setdefault(bank_id, outlet_id)  # type: ignore[arg-type]
    made = 0
    for chunk in _chunks(waiting):
        apps = CardApplication.objects.bulk_create(
            [
                CardApplication(
                    person_id=card.person_id,
                    bank_id=card.bank_id,
                    generation=card.generation,
                    delivery=DeliveryMode.OUTLET_PICKUP,
                    outlet_id=first_outlet.get(card.bank_id),
                    photo=photo,
                    created_by=clerk,
                    state=(
                        CardApplication.State.RETURNED
                        if card.state == "production_failed"
                        else CardApplication.State.ACCEPTED
                    ),
                    failure_stage=card.failure_stage,
                    failure_reason=card.failure_reason,
                )
                for card in chunk
            ]
        )
        for card, app in zip(chunk, apps, strict=True):
            card.application_id = app.pk
        Card.objects.bulk_update(chunk, ["application"])
        made += len(apps)
    photographed = unphotographed.update(photo=photo)
    return {"申领记录 card applications": made, "申领相片 application photos": made + photographed}

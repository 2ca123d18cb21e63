"""Property-based tests of numbering lines into bank files (generation numbers them, filing closes the gaps).

Random small worlds (3–12 recipients over 2–3 banks: differing account names, a name GBK cannot encode,
no account, a social security card that is lost or being replaced, back pay) go through random
sequences of what may happen between generation and filing (deaths and their corrections, whitelist
spellings confirmed, data fixed and the pre-flight run again, cards lost, regeneration), then approval,
filing and the banks' return files. Whatever happened, every filed file must list exactly its bank's
pending lines 1…n, and the payroll must reconcile to the fen.

Each example runs in a savepoint that is rolled back, so the examples of one test share the `world`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shebao.cards.models import Card, CardState
from shebao.cards.services import LossKind, card_report_loss
from shebao.core.errors import StateError, ValidationError
from shebao.payments.deaths import death_correct
from shebao.payments.models import BackPay, BankFile, PaymentLine, Payroll
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.services import (
    bank_file_bytes,
    death_record,
    entitlement_create,
    line_resolve,
    name_whitelist_add,
    name_whitelist_confirm,
    payroll_approve,
    payroll_file,
    payroll_preflight,
    repayment_generate,
    return_file_import,
)
from shebao.people.models import PaymentAccount
from tests.cards.factories import make_card
from tests.factories import AccountFactory, BankFactory, PersonFactory
from tests.payments.factories import TXT_REASONS, approved, generate, return_bytes

pytestmark = pytest.mark.django_db

DEATH = dt.date(2024, 5, 10)  # June's lines come after it; April and May back pay do not
UNENCODABLE = "张\U00020000"  # 𠀀: outside GBK
KINDS = ("plain", "differs", "charset", "no_account", "card", "replaced")
AMOUNTS = ("100.00", "1234.56", "0.01", "999.99", "2345.67")
# Derandomized: CI runs the same 30 examples every time (a red build is a change's doing, not a draw's).
# Explore further by hand: `pytest tests/payments/test_file_numbering_property.py --hypothesis-seed=N`
# with derandomize off, or a larger max_examples.
PROPERTY = settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_account_numbers = itertools.count(1)


# --- helpers -----------------------------------------------------------------------------------


def assert_files_gapless(payroll: Payroll) -> None:
    """Every filed file is 1…n of its bank's pending lines; no held line in a file, no pending outside."""
    files = list(payroll.bank_files.all())
    assert files
    assert BankFile.all_objects.filter(payroll=payroll).count() == len(files)  # no draft left behind
    assert not BankFile.all_objects.filter(payroll=payroll, filed_at__isnull=True).exists()
    for bank_file in files:
        lines = PaymentLine.objects.filter(bank_file=bank_file).order_by("seq")
        assert list(lines.values_list("seq", flat=True)) == list(range(1, bank_file.control_count + 1))
        assert set(lines.values_list("bank_id", flat=True)) == {bank_file.bank_id}
        assert set(lines.values_list("state", flat=True)) == {"pending"}
    assert not PaymentLine.objects.filter(payroll=payroll, state="held", bank_file__isnull=False).exists()
    assert not PaymentLine.objects.filter(payroll=payroll, state="pending", bank_file__isnull=True).exists()
    assert set(PaymentLine.objects.filter(payroll=payroll).values_list("state", flat=True)) <= {
        "pending",
        "held",
    }


def assert_files_add_up(payroll: Payroll) -> None:
    """Files + held lines = the approval's snapshot, to the fen (and the payroll reconciles)."""
    payroll.refresh_from_db()
    payroll_reconcile(payroll)
    files = list(payroll.bank_files.all())
    held = list(PaymentLine.objects.filter(payroll=payroll, state="held").values_list("amount", flat=True))
    count = sum(f.control_count for f in files) + len(held)
    total = sum((f.control_total for f in files), Decimal("0.00")) + sum(held, Decimal("0.00"))
    assert (count, total) == (payroll.control_count, payroll.control_total)
    for bank_file in files:
        amounts = PaymentLine.objects.filter(bank_file=bank_file).values_list("amount", flat=True)
        assert sum(amounts, Decimal("0.00")) == bank_file.control_total


def assert_files_render(payroll: Payroll) -> None:
    """The bytes are the same twice, and their detail lines carry seq 1…n in order."""
    for bank_file in payroll.bank_files.all():
        first, second = bank_file_bytes(bank_file), bank_file_bytes(bank_file)
        assert first == second
        seqs = [int(m) for m in re.findall(rb"^D\|(\d+)\|", first, flags=re.M)]
        assert seqs == list(range(1, bank_file.control_count + 1))


def import_returns(payroll: Payroll, data: st.DataObject, actor: Any, *, must_fail: bool = False) -> None:
    """Each file's return (some lines failed, drawn), imported; the payroll ends reconciled."""
    for bank_file in payroll.bank_files.order_by("pk"):
        seqs = list(range(1, bank_file.control_count + 1))
        failed = data.draw(
            st.lists(st.sampled_from(seqs), unique=True, min_size=int(must_fail)), label="failed"
        )
        reasons = data.draw(
            st.lists(st.sampled_from(sorted(TXT_REASONS)), min_size=len(failed), max_size=len(failed)),
            label="reasons",
        )
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file, failures=dict(zip(failed, reasons, strict=True))),
            file_name=f"{bank_file.batch_no}.txt",
            actor=actor,
        )
    payroll.refresh_from_db()
    assert payroll.state == Payroll.State.RECONCILED
    fig = payroll_reconcile(payroll)
    assert fig.pending.count == 0 and fig.balanced


@contextmanager
def rolled_back() -> Iterator[None]:
    """One example's changes are undone afterwards (passing or failing)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- the world -------------------------------------------------------------------------------


@dataclass
class Recipient:
    kind: str
    bank: int
    amount: str
    back_pay: bool


@dataclass
class Scenario:
    banks: int
    recipients: list[Recipient]
    draft_ops: list[tuple[str, int]]
    approved_ops: list[tuple[str, int]]


@dataclass
class Built:
    people: list[Any]
    kinds: list[str]
    banks: list[Any]
    cards: dict[int, Card] = field(default_factory=dict)


recipients = st.builds(
    Recipient,
    kind=st.sampled_from(KINDS),
    bank=st.integers(0, 2),
    amount=st.sampled_from(AMOUNTS),
    back_pay=st.booleans(),
)
DRAFT_OPS = (
    "die",
    "correct",
    "mistaken_death",
    "whitelist",
    "fix_line",
    "lose_card",
    "regenerate",
    "preflight",
)
APPROVED_OPS = ("die", "correct", "mistaken_death", "whitelist", "lose_card", "preflight")
scenarios = st.builds(
    Scenario,
    banks=st.integers(2, 3),
    recipients=st.lists(recipients, min_size=1, max_size=10),  # plus persons A and B of the world
    draft_ops=st.lists(st.tuples(st.sampled_from(DRAFT_OPS), st.integers(0, 11)), max_size=8),
    approved_ops=st.lists(st.tuples(st.sampled_from(APPROVED_OPS), st.integers(0, 11)), max_size=6),
)


def build(pay: Any, scenario: Scenario) -> Built:
    w = pay.world
    banks = [w.bank_a, w.bank_b] + ([BankFactory()] if scenario.banks == 3 else [])
    built = Built(people=[w.person_a, w.person_b], kinds=["plain", "plain"], banks=banks)
    for r in scenario.recipients:
        bank = banks[r.bank % len(banks)]
        person = PersonFactory(region=w.region, **({"name": UNENCODABLE} if r.kind == "charset" else {}))
        if r.kind == "differs":
            AccountFactory(person=person, bank=bank, account_name="别人")
        elif r.kind in ("card", "replaced"):
            # A passbook at `bank` since 2010, and from May 2024 the account of a card at the next bank.
            AccountFactory(person=person, bank=bank)
            card_bank = banks[(r.bank + 1) % len(banks)]
            state = CardState.ISSUED if r.kind == "card" else CardState.REPLACED
            card = make_card(person, card_bank, state, outlet=w.outlet_a, generation=2)
            Card.objects.filter(pk=card.pk).update(fin_activated_at=timezone.now())
            AccountFactory(
                person=person,
                bank=card_bank,
                account_no=card.bank_account,
                kind=PaymentAccount.Kind.CARD,
                valid_from=202405,
            )
            built.cards[len(built.people)] = card
        elif r.kind != "no_account":
            AccountFactory(person=person, bank=bank)
        ent = entitlement_create(
            person=person, benefit_type=pay.pension, from_period=202401, amount=r.amount, actor=w.centre_clerk
        )
        if r.back_pay:  # April and May owed again: unnumbered lines, appended at filing
            BackPay.objects.create(
                entitlement=ent,
                from_period=202404,
                to_period=202405,
                reason="补发",
                created_by=w.centre_clerk,
            )
        built.people.append(person)
        built.kinds.append(r.kind)
    return built


def apply(op: str, i: int, pay: Any, built: Built, payroll: Payroll) -> Payroll:
    """Do `op` to recipient `i` (modulo their number) while `payroll` is a draft or approved."""
    w = pay.world
    # Small indices are the scenario's recipients (A and B of the world come last).
    i = (i + 2) % len(built.people) if len(built.people) > 2 else i % 2
    person = built.people[i]
    person.refresh_from_db()
    payroll.refresh_from_db()
    draft = payroll.state == Payroll.State.DRAFT
    if op == "die" and person.death_date is None:
        death_record(person=person, death_date=DEATH, actor=w.centre_clerk)
    elif op == "correct" and person.death_date is not None:
        death_correct(person=person, death_date=None, reason="民政部门更正函", actor=w.supervisor)
    elif op == "mistaken_death" and person.death_date is None:  # recorded by mistake, then corrected
        death_record(person=person, death_date=DEATH, actor=w.centre_clerk)
        death_correct(person=person, death_date=None, reason="民政部门更正函", actor=w.supervisor)
    elif op == "whitelist" and built.kinds[i] == "differs":
        entry = name_whitelist_add(person=person, spelling="别人", actor=w.centre_clerk)
        if entry.confirmed_at is None:
            name_whitelist_confirm(entry=entry, actor=w.supervisor)
    elif op == "fix_line" and draft:
        # The clerk fixes the spelling on the line and runs the pre-flight again.
        PaymentLine.objects.filter(payroll=payroll, person=person).exclude(account_no="").update(
            account_name=person.name
        )
        payroll_preflight(payroll=payroll, actor=w.centre_clerk)
    elif op == "lose_card" and i in built.cards:
        card = Card.objects.get(pk=built.cards[i].pk)
        if card.state == CardState.ISSUED:
            card_report_loss(card=card, kind=LossKind.TEMPORARY, actor=w.centre_clerk)
            payroll_preflight(payroll=payroll, actor=w.centre_clerk)
    elif op == "regenerate" and draft:
        payroll = generate(pay)
    elif op == "preflight":
        payroll_preflight(payroll=payroll, actor=w.centre_clerk)
    payroll.refresh_from_db()
    return payroll


def run_to_filing(pay: Any, scenario: Scenario) -> tuple[Built, Payroll | None]:
    """Generate, the draft's operations, approve, the approved payroll's operations, file. None: nothing
    could be approved or filed (every line left the draft, or every line is held)."""
    w = pay.world
    built = build(pay, scenario)
    payroll = generate(pay)
    for op, i in scenario.draft_ops:
        payroll = apply(op, i, pay, built, payroll)
    if not PaymentLine.objects.filter(payroll=payroll).exists():
        return built, None
    payroll = payroll_approve(payroll=payroll, actor=w.supervisor)
    for op, i in scenario.approved_ops:
        payroll = apply(op, i, pay, built, payroll)
    if not PaymentLine.objects.filter(payroll=payroll, state="pending").exists():
        with pytest.raises(StateError, match="均被暂缓发放"):
            payroll_file(payroll=payroll, actor=w.centre_clerk)
        return built, None
    payroll_file(payroll=payroll, actor=w.centre_clerk)
    payroll.refresh_from_db()
    return built, payroll


# --- properties --------------------------------------------------------------------------------


@PROPERTY
@given(scenario=scenarios, data=st.data())
def test_whatever_happens_before_filing_the_files_are_gapless_and_add_up(pay, world, scenario, data):
    with rolled_back():
        _built, payroll = run_to_filing(pay, scenario)
        if payroll is None:
            return
        assert payroll.state == Payroll.State.FILED
        assert_files_gapless(payroll)
        assert_files_add_up(payroll)
        assert_files_render(payroll)
        import_returns(payroll, data, world.centre_clerk)


@PROPERTY
@given(scenario=scenarios, data=st.data())
def test_a_second_payment_batch_is_gapless_too(pay, world, scenario, data):
    with rolled_back():
        built, payroll = run_to_filing(pay, scenario)
        if payroll is None:
            return
        import_returns(payroll, data, world.centre_clerk, must_fail=True)
        # The clerk resolves failed lines (and lines held back from the filed payroll): paid again into
        # an account the person gave at a drawn bank.
        repayable = PaymentLine.objects.filter(payroll=payroll, state__in=["failed", "held"]).order_by("pk")
        resolved = 0
        for line in repayable:
            if not data.draw(st.booleans(), label="resolve"):
                continue
            bank = data.draw(st.sampled_from(built.banks), label="bank")
            try:
                line_resolve(
                    line=line,
                    kind="alternate",
                    bank=bank,
                    account_no=f"6222{next(_account_numbers):015d}",
                    account_name=line.person.name,
                    proof="签字确认书",
                    actor=world.centre_clerk,
                )
            except (ValidationError, StateError):  # a name outside GBK; a month after a death
                continue
            resolved += 1
        if not resolved:
            return
        batch = repayment_generate(
            region=world.region, benefit_type=pay.pension, period=202406, actor=world.centre_clerk
        )
        assert set(batch.lines.values_list("bank_file", flat=True)) == {None}  # made unnumbered
        if not batch.lines.exists():  # every resolved line was for a month after a death
            return
        batch = payroll_approve(payroll=batch, actor=world.supervisor)
        if not batch.lines.filter(state="pending").exists():
            return
        payroll_file(payroll=batch, actor=world.centre_clerk)
        batch.refresh_from_db()
        assert batch.state == Payroll.State.FILED
        assert_files_gapless(batch)
        assert_files_add_up(batch)
        assert_files_render(batch)
        import_returns(batch, data, world.centre_clerk)


# --- the smallest example the properties found (a bug, fixed): kept as a plain test -------------


@pytest.mark.parametrize("kind", ["charset", "no_account"])
def test_a_death_corrected_after_approval_keeps_a_line_only_preflight_hold(pay, world, kind):
    person = PersonFactory(region=world.region, **({"name": UNENCODABLE} if kind == "charset" else {}))
    if kind == "charset":
        AccountFactory(person=person, bank=world.bank_a)
    entitlement_create(
        person=person, benefit_type=pay.pension, from_period=202401, amount="100.00", actor=world.centre_clerk
    )
    payroll = approved(pay)
    line = PaymentLine.objects.get(payroll=payroll, person=person)
    code = "preflight:name_charset" if kind == "charset" else "preflight:no_account"
    assert (line.state, line.hold_code) == ("held", code)
    # A death recorded by mistake, and corrected by a supervisor, before the payroll is filed.
    death_record(person=person, death_date=DEATH, actor=world.centre_clerk)
    death_correct(person=person, death_date=None, reason="民政部门更正函", actor=world.supervisor)

    payroll_file(payroll=payroll, actor=world.centre_clerk)  # was: refused (GBK) or out of balance

    line.refresh_from_db()
    assert (line.state, line.hold_code, line.bank_file) == ("held", code, None)
    payroll.refresh_from_db()
    assert payroll.state == Payroll.State.FILED
    assert_files_gapless(payroll)
    assert_files_add_up(payroll)

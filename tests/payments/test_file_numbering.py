"""Lines are numbered into their bank's file when the payroll is generated; filing only closes the gaps.

The file must still list its lines 1, 2, 3 … without a gap, carry only the pending lines of its bank,
and draft files must stay invisible until the payroll is filed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from shebao.payments.models import BankFile, PaymentLine, Payroll
from shebao.payments.reconciliation import ReconciliationError
from shebao.payments.services import (
    bank_file_bytes,
    death_record,
    entitlement_create,
    payroll_approve,
    payroll_file,
)
from tests.factories import AccountFactory, PersonFactory
from tests.payments.factories import approved, generate

pytestmark = pytest.mark.django_db


def _recipients(pay: Any, bank: Any, names: list[str | None]) -> list[Any]:
    """A recipient per entry at `bank`; a name other than None is the account's (differing) name."""
    w = pay.world
    people = []
    for account_name in names:
        person = PersonFactory(region=w.region)
        AccountFactory(person=person, bank=bank, **({"account_name": account_name} if account_name else {}))
        entitlement_create(
            person=person, benefit_type=pay.pension, from_period=202401, amount="100.00", actor=w.centre_clerk
        )
        people.append(person)
    return people


def _seq_of(payroll: Payroll) -> dict[int, int | None]:
    return dict(PaymentLine.objects.filter(payroll=payroll).values_list("person_id", "seq"))


def assert_files_gapless(payroll: Payroll) -> None:
    """Every filed file is 1…n; every pending line is in the file of its own bank; no held line is."""
    files = list(payroll.bank_files.all())
    assert files
    assert BankFile.all_objects.filter(payroll=payroll).count() == len(files)  # no draft left behind
    for bank_file in files:
        lines = PaymentLine.objects.filter(bank_file=bank_file).order_by("seq")
        assert list(lines.values_list("seq", flat=True)) == list(range(1, bank_file.control_count + 1))
        assert set(lines.values_list("bank_id", flat=True)) == {bank_file.bank_id}
        assert set(lines.values_list("state", flat=True)) <= {"pending", "paid", "failed"}
    assert not PaymentLine.objects.filter(payroll=payroll, state="held", bank_file__isnull=False).exists()
    assert not PaymentLine.objects.filter(payroll=payroll, state="pending", bank_file__isnull=True).exists()


def test_generation_numbers_the_lines_into_draft_files_that_nobody_sees(pay, world):
    people = _recipients(pay, world.bank_a, [None, None, None])

    payroll = generate(pay)

    in_a = PaymentLine.objects.filter(payroll=payroll, bank=world.bank_a).order_by("person_id")
    assert list(in_a.values_list("seq", flat=True)) == [1, 2, 3, 4]  # person A and the three, by person
    assert {line.bank_file.bank_id for line in in_a} == {world.bank_a.pk}
    assert all(line.sent_file is None for line in in_a)
    assert not payroll.bank_files.exists() and not BankFile.objects.filter(payroll=payroll).exists()
    draft = BankFile.all_objects.get(payroll=payroll, bank=world.bank_a)
    assert draft.filed_at is None and draft.sha256 == ""
    assert PaymentLine.objects.get(payroll=payroll, person=people[0]).bank_file_id == draft.pk


def test_filing_moves_the_last_line_into_the_gap_a_held_line_leaves_and_nothing_else(pay, world):
    people = _recipients(pay, world.bank_a, [None, "别人", None, None])
    payroll = approved(pay)
    before = _seq_of(payroll)
    held = PaymentLine.objects.get(payroll=payroll, person=people[1])
    assert held.state == "held" and held.seq is not None  # numbered by the INSERT, then held

    payroll_file(payroll=payroll, actor=world.centre_clerk)

    payroll.refresh_from_db()
    assert_files_gapless(payroll)
    after = _seq_of(payroll)
    assert after[people[1].pk] is None
    moved = {pk for pk in after if pk != people[1].pk and after[pk] != before[pk]}
    last = max(
        (pk for pk in before if before[pk] is not None and pk != people[1].pk), key=lambda pk: before[pk]
    )  # type: ignore[arg-type, return-value]
    assert moved == {last} and after[last] == before[people[1].pk]


def test_a_line_released_after_generation_and_a_line_removed_by_a_death_are_placed_too(pay, world):
    people = _recipients(pay, world.bank_a, [None, None, "别人", None])
    payroll = generate(pay)
    # The person died in May: the June line leaves the draft (a gap in the middle of the file).
    death_record(person=people[0], death_date=dt.date(2024, 5, 10), actor=world.centre_clerk)
    assert not PaymentLine.objects.filter(payroll=payroll, person=people[0]).exists()
    # The held line's spelling is fixed at the bank: released as pending, keeping its number.
    PaymentLine.objects.filter(payroll=payroll, person=people[2]).update(account_name=people[2].name)
    payroll = payroll_approve(payroll=payroll, actor=world.supervisor)

    files = payroll_file(payroll=payroll, actor=world.centre_clerk)

    payroll.refresh_from_db()
    assert_files_gapless(payroll)
    assert PaymentLine.objects.get(payroll=payroll, person=people[2]).state == "pending"
    assert sum(f.control_count for f in files) == 1 + 3 + 1  # A and three in bank A, B in bank B


def test_a_bank_no_line_reached_leaves_no_file_and_regenerating_keeps_the_drafts(pay, world):
    payroll = generate(pay)
    drafts = set(BankFile.all_objects.filter(payroll=payroll).values_list("pk", flat=True))

    again = generate(pay)

    assert again.pk == payroll.pk
    assert set(BankFile.all_objects.filter(payroll=payroll).values_list("pk", flat=True)) == drafts
    assert sorted(PaymentLine.objects.filter(payroll=payroll).values_list("seq", flat=True)) == [1, 1]
    payroll_file(payroll=payroll_approve(payroll=again, actor=world.supervisor), actor=world.centre_clerk)
    assert set(BankFile.all_objects.filter(payroll=payroll).values_list("bank_id", flat=True)) == {
        world.bank_a.pk,
        world.bank_b.pk,
    }


def test_a_line_whose_bank_changed_behind_the_services_is_refused_and_nothing_is_filed(pay, world):
    payroll = approved(pay)
    PaymentLine.objects.filter(payroll=payroll, person=world.person_a).update(bank=world.bank_b)

    with pytest.raises(ReconciliationError, match="银行与文件不符"):
        payroll_file(payroll=payroll, actor=world.centre_clerk)

    payroll.refresh_from_db()
    assert payroll.state == "approved" and not BankFile.objects.filter(payroll=payroll).exists()


def test_lines_made_without_a_number_are_appended_and_the_file_renders_them(pay, world):
    payroll = approved(pay)
    line = PaymentLine.objects.get(payroll=payroll, person=world.person_a)
    # A line of the payroll that the generation's INSERT did not number (as back pay is made).
    extra = PaymentLine.objects.create(
        payroll=payroll,
        person=world.person_a,
        benefit_type=pay.pension,
        period=202405,
        amount="12.34",
        kind=PaymentLine.Kind.BACK_PAY,
        account=line.account,
        bank=line.bank,
        account_no=line.account_no,
        account_name=line.account_name,
    )
    Payroll.objects.filter(pk=payroll.pk).update(control_count=3, control_total="4157.94")
    payroll.refresh_from_db()

    files = payroll_file(payroll=payroll, actor=world.centre_clerk)

    payroll.refresh_from_db()
    assert_files_gapless(payroll)
    extra.refresh_from_db()
    assert extra.seq == 2 and extra.bank_file is not None and extra.bank_file.is_filed
    data = bank_file_bytes(next(f for f in files if f.bank_id == world.bank_a.pk))
    assert b"D|2|" in data and b"12.34" in data


def test_the_switching_app_hears_of_a_filing_once_per_payroll(
    pay, world, monkeypatch, django_capture_on_commit_callbacks
):
    _recipients(pay, world.bank_a, [None])
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        "shebao.switching.automatic.switch_failures_from_returns", lambda **kw: calls.append(kw) or 0
    )
    payroll = approved(pay)

    with django_capture_on_commit_callbacks(execute=True):
        files = payroll_file(payroll=payroll, actor=world.centre_clerk)

    assert len(files) == 2
    assert [c["payroll_ids"] for c in calls] == [[payroll.pk]]


def test_before_filing_the_statement_says_waiting_and_after_it_says_at_the_bank(pay, world, client):
    payroll = approved(pay)
    client.force_login(world.centre_clerk)
    url = reverse("payments:statement", args=[world.person_a.pk])

    page = client.get(url).content.decode()
    assert "待发放" in page and "银行处理中" not in page  # numbered into a draft file, not yet sent

    payroll_file(payroll=payroll, actor=world.centre_clerk)
    page = client.get(url).content.decode()
    assert "银行处理中" in page


def test_filing_refuses_files_that_with_the_held_lines_do_not_add_up_to_the_approval(pay, world):
    _recipients(pay, world.bank_a, ["别人"])  # held by the pre-flight: part of the equation
    payroll = approved(pay)
    PaymentLine.objects.filter(payroll=payroll, person=world.person_b).update(amount="1800.01")

    with pytest.raises(ReconciliationError, match="与复核时不平"):
        payroll_file(payroll=payroll, actor=world.centre_clerk)

    payroll.refresh_from_db()
    assert payroll.state == "approved" and not BankFile.objects.filter(payroll=payroll).exists()
    PaymentLine.objects.filter(payroll=payroll, person=world.person_b).update(amount="1800.00")
    files = payroll_file(payroll=payroll, actor=world.centre_clerk)
    assert sum(f.control_count for f in files) == 2


def test_a_line_held_for_its_name_characters_stays_held_at_filing_without_being_read_again(
    pay, world, monkeypatch
):
    person = PersonFactory(region=world.region, name="张\U00020000")
    AccountFactory(person=person, bank=world.bank_a)
    entitlement_create(
        person=person, benefit_type=pay.pension, from_period=202401, amount="100.00", actor=world.centre_clerk
    )
    payroll = approved(pay)
    from shebao.payments import preflight

    def must_not_run(lines):  # type: ignore[no-untyped-def]
        raise AssertionError("the line-only rule ran again after approval")

    monkeypatch.setattr(preflight, "BUILTIN_RULES", [must_not_run, *preflight.BUILTIN_RULES[1:]])
    monkeypatch.setattr(preflight, "LINE_ONLY_RULES", {must_not_run: ("no_account", "name_charset")})

    payroll_file(payroll=payroll, actor=world.centre_clerk)

    line = PaymentLine.objects.get(payroll=payroll, person=person)
    assert line.state == "held" and line.hold_code == "preflight:name_charset" and line.bank_file is None

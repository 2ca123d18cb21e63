"""Item 6: an account the bank has already refused for a lasting reason is not sent again until a clerk
has dealt with it — the goal is that no failure the system could have known reaches the bank."""

from __future__ import annotations

import pytest

from shebao.payments.models import PaymentLine
from shebao.payments.services import line_resolve, return_file_import
from tests.payments.factories import filed, generate, return_bytes


def _june(pay, world, reason: str):  # type: ignore[no-untyped-def]
    """June is filed; person A's line at bank A comes back failed with `reason`, B's is paid."""
    payroll = filed(pay)
    for bank_file in payroll.bank_files.all():
        failures = {1: reason} if bank_file.bank == world.bank_a else {}
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file, failures=failures),
            file_name=f"{bank_file.batch_no}.txt",
            actor=world.centre_clerk,
        )
    return PaymentLine.objects.get(payroll=payroll, person=world.person_a)


@pytest.mark.parametrize("reason", ["no_account", "closed", "frozen", "no_credit", "abnormal"])
def test_the_next_payroll_holds_a_line_into_an_account_the_bank_refused(pay, world, reason) -> None:
    failed = _june(pay, world, reason)
    assert failed.state == "failed"
    july = generate(pay, 202407)
    line = july.lines.get(person=world.person_a)
    assert (line.state, line.hold_code) == ("held", "preflight:known_failure")
    assert "202406" in line.hold_reason and "尚未核实处理" in line.hold_reason
    assert july.lines.get(person=world.person_b).state == "pending"


def test_a_passing_failure_is_sent_again(pay, world) -> None:
    _june(pay, world, "other")
    assert generate(pay, 202407).lines.get(person=world.person_a).state == "pending"


def test_once_a_clerk_has_dealt_with_the_failure_the_account_is_used_again(pay, world) -> None:
    failed = _june(pay, world, "frozen")
    assert generate(pay, 202407).lines.get(person=world.person_a).state == "held"
    # the bank confirms the account is unfrozen: the clerk pays the same account, with the proof
    line_resolve(
        line=failed,
        kind="alternate",
        bank=world.bank_a,
        account_no=failed.account_no,
        account_name=failed.account_name,
        proof="银行解冻回执 2024-07-02",
        actor=world.centre_clerk,
    )
    assert generate(pay, 202407).lines.get(person=world.person_a).state == "pending"


def test_a_name_refused_by_the_bank_is_held_until_verified(pay, world) -> None:
    failed = _june(pay, world, "name_mismatch")
    assert generate(pay, 202407).lines.get(person=world.person_a).hold_code == "preflight:known_failure"
    line_resolve(
        line=failed, kind="name_verified", spelling="王晓明", note="本人核实", actor=world.centre_clerk
    )
    july = generate(pay, 202407).lines.get(person=world.person_a)
    assert (july.state, july.hold_code) == ("held", "preflight:name_mismatch")  # spelling not yet confirmed
    from shebao.payments.models import NameWhitelist
    from shebao.payments.services import name_whitelist_confirm

    name_whitelist_confirm(entry=NameWhitelist.objects.get(person=world.person_a), actor=world.supervisor)
    july.refresh_from_db()
    assert (july.state, july.account_name) == ("pending", "王晓明")

"""A rare character GBK cannot carry holds its own line before filing instead of stopping the whole file."""

from __future__ import annotations

from shebao.payments.models import PaymentLine
from shebao.payments.services import payroll_file
from tests.payments.factories import approved


def test_a_name_outside_gbk_is_held_and_the_rest_is_filed(pay, world):  # type: ignore[no-untyped-def]
    for person in (world.person_b,):
        person.name = "李𨭉"
        person.save()
        account = person.accounts.get()
        account.account_name = "李𨭉"
        account.save()
    payroll = approved(pay)

    files = payroll_file(payroll=payroll, actor=world.centre_clerk)

    held = PaymentLine.objects.get(payroll=payroll, person=world.person_b)
    assert held.state == "held" and held.bank_file is None
    assert "GBK" in held.hold_reason and "𨭉" in held.hold_reason
    assert [f.bank for f in files] == [world.bank_a]

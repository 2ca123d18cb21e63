"""A crash in the middle of a payroll run or a return-file import leaves the whole step or nothing;
running it again finishes the job."""

from __future__ import annotations

import pytest

from shebao.payments import services
from shebao.payments.models import PaymentLine, Payroll, ReturnFile
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.services import payroll_generate, return_file_import
from tests.payments.factories import filed, return_bytes


class Crash(RuntimeError):
    pass


def _crash(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise Crash("the machine went down")


def test_a_payroll_run_that_crashes_after_its_lines_leaves_nothing_and_runs_again(pay, world, monkeypatch):
    monkeypatch.setattr(services, "_insert_back_pay", _crash)  # after every normal line is inserted
    with pytest.raises(Crash):
        payroll_generate(
            region=world.region, period=202406, benefit_type=pay.pension, actor=world.centre_clerk
        )
    assert not Payroll.objects.exists() and not PaymentLine.objects.exists()

    monkeypatch.undo()
    payroll = payroll_generate(
        region=world.region, period=202406, benefit_type=pay.pension, actor=world.centre_clerk
    )
    assert payroll.lines.count() == 2


def test_a_return_import_that_crashes_after_applying_its_lines_leaves_them_untouched(pay, world, monkeypatch):
    payroll = filed(pay)
    bank_file = payroll.bank_files.get(bank=world.bank_a)
    data = return_bytes(bank_file, failures={1: "lost"})
    monkeypatch.setattr(services, "_overpayments_detect", _crash)  # after failures and paid lines are set
    with pytest.raises(Crash):
        return_file_import(payroll=payroll, data=data, file_name="r.txt", actor=world.centre_clerk)
    assert set(PaymentLine.objects.filter(bank_file=bank_file).values_list("state", flat=True)) == {"pending"}
    assert not ReturnFile.objects.exists()

    monkeypatch.undo()
    result = return_file_import(payroll=payroll, data=data, file_name="r.txt", actor=world.centre_clerk)
    assert (result.duplicate, result.failed) == (False, 1)
    assert PaymentLine.objects.get(bank_file=bank_file).state == "failed"
    assert payroll_reconcile(payroll, detail=False).balanced

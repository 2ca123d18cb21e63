from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from shebao.payments.models import Payroll
from shebao.payments.services import payroll_approve
from tests.payments.factories import return_bytes


def _call(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_the_commands_run_a_payroll_from_generation_to_reconciliation(pay, world, tmp_path):
    out = _call("payroll_run", "--period", "202406", "--benefit", "PEN-EMP", "--as", "clerk")
    payroll = Payroll.objects.get()
    assert "2笔 4145.60元" in out

    payroll_approve(payroll=payroll, actor=world.supervisor)
    out = _call("payroll_file", "--payroll", str(payroll.pk), "--out", str(tmp_path), "--as", "clerk")
    written = sorted(tmp_path.glob("*.txt"))
    assert len(written) == 2 and "2345.60元" in out

    returns = []
    for bank_file in payroll.bank_files.all():
        path = tmp_path / f"{bank_file.batch_no}.ret"
        path.write_bytes(return_bytes(bank_file))
        returns.append(str(path))
    out = _call("return_import", "--payroll", str(payroll.pk), *returns, "--as", "clerk")

    assert "已对账" in out and "成功率100.00%" in out


def test_an_unknown_benefit_code_is_explained(pay, world):
    with pytest.raises(CommandError, match="PEN-EMP"):
        _call("payroll_run", "--period", "202406", "--benefit", "NOPE", "--as", "clerk")


def test_roles_and_states_hold_for_commands_too(pay, world, tmp_path):
    _call("payroll_run", "--period", "202406", "--benefit", "PEN-EMP", "--as", "clerk")
    payroll = Payroll.objects.get()
    args = ["payroll_file", "--payroll", str(payroll.pk), "--out", str(tmp_path)]

    with pytest.raises(CommandError, match="尚未复核"):
        _call(*args, "--as", "clerk")
    payroll_approve(payroll=payroll, actor=world.supervisor)
    with pytest.raises(CommandError, match="无权"):
        _call(*args, "--as", "auditor")
    with pytest.raises(CommandError, match="不存在"):
        _call("payroll_run", "--period", "202406", "--benefit", "PEN-EMP", "--as", "nobody")

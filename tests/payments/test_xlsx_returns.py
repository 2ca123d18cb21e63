"""A bank on the xlsx layout returns its result as the same workbook plus result columns (回盘)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
import xlsxwriter

from shebao.payments.layouts import ReturnFileRefused
from shebao.payments.layouts.xlsx_v1 import RETURN_CONTROL, RETURN_HEADERS
from shebao.payments.models import PaymentLine, ReturnFile
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.services import return_file_import
from tests.factories import AccountFactory, PersonFactory
from tests.payments.factories import TXT_REASONS, filed, return_bytes


@pytest.fixture
def xlsx_bank(pay, world):  # type: ignore[no-untyped-def]
    """Bank A takes xlsx and carries two lines: 王小明 2345.60 and 陈大 1000.10."""
    from shebao.payments.services import entitlement_create

    world.bank_a.file_layout = "xlsx-v1"
    world.bank_a.save()
    person = PersonFactory(region=world.region, name="陈大")
    AccountFactory(person=person, bank=world.bank_a)
    entitlement_create(
        person=person,
        benefit_type=pay.pension,
        from_period=202401,
        amount="1000.10",
        actor=world.centre_clerk,
    )
    payroll = filed(pay)
    bank_file = payroll.bank_files.get(bank=world.bank_a)
    assert bank_file.layout == "xlsx-v1"
    return payroll, bank_file


def xlsx_return(
    bank_file,  # type: ignore[no-untyped-def]
    *,
    failures: dict[int, str] | None = None,
    amounts: dict[int, Any] | None = None,
    extra: list[list[Any]] | None = None,
    header: dict[str, Any] | None = None,
    numbers: bool = False,
) -> bytes:
    """The workbook the bank sends back: every line paid unless `failures` maps its seq to a reason."""
    failures, amounts = failures or {}, amounts or {}
    details: list[list[Any]] = []
    ok_n, ok_amt, fail_n, fail_amt = 0, Decimal("0.00"), 0, Decimal("0.00")
    for line in PaymentLine.objects.filter(bank_file=bank_file).select_related("person").order_by("seq"):
        amount = amounts.get(line.seq, line.amount)
        if line.seq in failures:
            code, text = TXT_REASONS[failures[line.seq]]
            result = "1"
            fail_n, fail_amt = fail_n + 1, fail_amt + Decimal(amount)
        else:
            code, text, result = "00", "成功", "0"
            ok_n, ok_amt = ok_n + 1, ok_amt + Decimal(amount)
        seq: Any = line.seq if numbers else str(line.seq)
        shown: Any = Decimal(amount) if numbers else f"{Decimal(amount):.2f}"  # a number cell as a bank types it
        details.append(
            [
                seq,
                line.account_no,
                line.account_name,
                shown,
                "01",
                line.person.ssn,
                "PEN-EMP",
                str(line.period),
                result,
                code,
                text,
            ]
        )
    details.extend(extra or [])
    h: dict[str, Any] = {
        "批次号": bank_file.batch_no,
        "业务日期": bank_file.business_date.strftime("%Y%m%d"),
        "付款单位编号": bank_file.payroll.benefit_type.payer_code,
        "总笔数": ok_n + fail_n,
        "总金额": f"{ok_amt + fail_amt:.2f}",
        "成功笔数": ok_n,
        "成功金额": f"{ok_amt:.2f}",
        "失败笔数": fail_n,
        "失败金额": f"{fail_amt:.2f}",
    }
    h.update(header or {})
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("回盘明细")
    ws.write_row(0, 0, RETURN_CONTROL)
    ws.write_row(1, 0, [h[k] if numbers or isinstance(h[k], str) else str(h[k]) for k in RETURN_CONTROL])
    ws.write_row(3, 0, RETURN_HEADERS)
    for i, row in enumerate(details, start=4):
        ws.write_row(i, 0, row)
    wb.close()
    return out.getvalue()


def _import(payroll, data, world):  # type: ignore[no-untyped-def]
    return return_file_import(payroll=payroll, data=data, file_name="回盘.xlsx", actor=world.centre_clerk)


def _states(bank_file):  # type: ignore[no-untyped-def]
    return dict(PaymentLine.objects.filter(bank_file=bank_file).values_list("seq", "state"))


def test_an_xlsx_return_file_is_applied_and_reconciles_to_the_fen(xlsx_bank, world):
    payroll, bank_file = xlsx_bank

    result = _import(payroll, xlsx_return(bank_file, failures={2: "lost"}), world)

    assert (result.paid, result.failed) == (1, 1)
    assert _states(bank_file) == {1: "paid", 2: "failed"}
    failed = PaymentLine.objects.get(bank_file=bank_file, seq=2)
    assert (failed.failure_code, failed.failure_text) == ("lost", "挂失")
    for other in payroll.bank_files.exclude(pk=bank_file.pk):
        _import(payroll, return_bytes(other), world)
    payroll.refresh_from_db()
    fig = payroll_reconcile(payroll)
    assert payroll.state == "reconciled" and (fig.failed.count, fig.failed.amount) == (1, Decimal("1000.10"))


def test_the_same_xlsx_file_twice_changes_nothing(xlsx_bank, world):
    payroll, bank_file = xlsx_bank
    data = xlsx_return(bank_file)
    _import(payroll, data, world)

    again = _import(payroll, data, world)

    assert again.duplicate and ReturnFile.objects.count() == 1


def test_cells_the_bank_typed_as_numbers_are_read(xlsx_bank, world):
    payroll, bank_file = xlsx_bank

    _import(payroll, xlsx_return(bank_file, numbers=True), world)

    assert _states(bank_file) == {1: "paid", 2: "paid"}


def test_a_changed_amount_on_one_row_is_refused_naming_the_row(xlsx_bank, world):
    payroll, bank_file = xlsx_bank
    data = xlsx_return(
        bank_file, amounts={2: Decimal("1000.01")}, header={"总金额": "3345.61", "成功金额": "3345.61"}
    )

    with pytest.raises(ReturnFileRefused, match=r"第6行（序号2）：金额1000.01与代发金额1000.10不符"):
        _import(payroll, data, world)
    assert _states(bank_file) == {1: "pending", 2: "pending"}


def test_an_unknown_row_is_refused(xlsx_bank, world):
    payroll, bank_file = xlsx_bank
    extra = [["9", "6217000000000000099", "某人", "10.00", "01", "", "PEN-EMP", "202406", "0", "00", "成功"]]
    data = xlsx_return(
        bank_file,
        extra=extra,
        header={"总笔数": "3", "总金额": "3355.70", "成功笔数": "3", "成功金额": "3355.70"},
    )

    with pytest.raises(ReturnFileRefused, match=r"第7行（序号9）：代发文件.*中没有这一笔"):
        _import(payroll, data, world)
    assert not ReturnFile.objects.exists()


def test_totals_that_do_not_add_up_are_refused(xlsx_bank, world):
    payroll, bank_file = xlsx_bank

    with pytest.raises(ReturnFileRefused, match="文件头总笔数/总金额"):
        _import(payroll, xlsx_return(bank_file, header={"总金额": "3345.69"}), world)
    assert _states(bank_file) == {1: "pending", 2: "pending"}


def test_an_unknown_reason_code_is_refused(xlsx_bank, world, monkeypatch):
    payroll, bank_file = xlsx_bank
    from tests.payments import factories

    monkeypatch.setitem(factories.TXT_REASONS, "lost", ("42", "挂失"))

    with pytest.raises(ReturnFileRefused, match="第5行（序号1）：未知的失败原因代码“42”"):
        _import(payroll, xlsx_return(bank_file, failures={1: "lost"}), world)
    assert _states(bank_file) == {1: "pending", 2: "pending"}


def test_a_file_that_is_not_a_workbook_is_refused(xlsx_bank, world):
    payroll, bank_file = xlsx_bank

    with pytest.raises(ReturnFileRefused):
        _import(payroll, b"H|not|an|xlsx\r\n", world)
    with pytest.raises(ReturnFileRefused, match="回盘控制信息表头"):
        _import(payroll, _workbook([["something", "else"]]), world)


def _workbook(rows: list[list[Any]]) -> bytes:
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet()
    for i, row in enumerate(rows):
        ws.write_row(i, 0, row)
    wb.close()
    return out.getvalue()

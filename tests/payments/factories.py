"""Helpers for payment tests: run a payroll to a given state and write bank return files."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shebao.payments.models import BankFile, PaymentLine, Payroll
from shebao.payments.services import payroll_approve, payroll_file, payroll_generate

TXT_REASONS = {
    "name_mismatch": ("01", "户名不符"),
    "no_account": ("02", "账号不存在"),
    "closed": ("03", "已销户"),
    "lost": ("04", "挂失"),
    "frozen": ("05", "冻结"),
    "card_replacing": ("06", "换卡中"),
    "no_credit": ("07", "只进不出"),
    "abnormal": ("08", "介质或账户状态异常"),
    "other": ("99", "其他：账户已止付"),
}


def generate(pay: Any, period: int = 202406) -> Payroll:
    w = pay.world
    return payroll_generate(region=w.region, period=period, benefit_type=pay.pension, actor=w.centre_clerk)


def approved(pay: Any, period: int = 202406) -> Payroll:
    return payroll_approve(payroll=generate(pay, period), actor=pay.world.supervisor)


def filed(pay: Any, period: int = 202406) -> Payroll:
    payroll = approved(pay, period)
    payroll_file(payroll=payroll, actor=pay.world.centre_clerk)
    payroll.refresh_from_db()
    return payroll


def return_text(
    bank_file: BankFile,
    *,
    failures: dict[int, str] | None = None,
    amounts: dict[int, Decimal] | None = None,
    drop: tuple[int, ...] = (),
    extra: tuple[str, ...] = (),
    header: dict[str, Any] | None = None,
) -> str:
    """A txt-v1 return file for `bank_file`: every line paid unless `failures` maps its seq to a reason."""
    failures = failures or {}
    amounts = amounts or {}
    details = []
    ok_n, ok_amt, fail_n, fail_amt = 0, Decimal("0.00"), 0, Decimal("0.00")
    for line in PaymentLine.objects.filter(bank_file=bank_file).order_by("seq"):
        if line.seq in drop:
            continue
        amount = amounts.get(line.seq, line.amount)
        if line.seq in failures:
            code, text = TXT_REASONS[failures[line.seq]]
            result = "1"
            fail_n, fail_amt = fail_n + 1, fail_amt + amount
        else:
            code, text, result = "00", "成功", "0"
            ok_n, ok_amt = ok_n + 1, ok_amt + amount
        details.append(
            f"D|{line.seq}|{line.account_no}|{line.account_name}|{amount:.2f}|{result}|{code}|{text}"
        )
    details.extend(extra)
    h = {
        "batch_no": bank_file.batch_no,
        "date": bank_file.business_date.strftime("%Y%m%d"),
        "payer": bank_file.payroll.benefit_type.payer_code,
        "count": ok_n + fail_n,
        "total": ok_amt + fail_amt,
        "ok_n": ok_n,
        "ok_amt": ok_amt,
        "fail_n": fail_n,
        "fail_amt": fail_amt,
    }
    h.update(header or {})
    head = (
        f"H|{h['batch_no']}|{h['date']}|{h['payer']}|{h['count']}|{h['total']:.2f}"
        f"|{h['ok_n']}|{h['ok_amt']:.2f}|{h['fail_n']}|{h['fail_amt']:.2f}"
    )
    return "".join(line + "\r\n" for line in [head, *details])


def return_bytes(bank_file: BankFile, **kwargs: Any) -> bytes:
    return return_text(bank_file, **kwargs).encode("gbk")

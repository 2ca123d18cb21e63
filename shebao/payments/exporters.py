"""xlsx exports of a payroll's lines and of the failures a user may see (rows only; the base writes)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from shebao.core.exporters import ListExporter
from shebao.core.values.masking import mask_account, mask_ssn
from shebao.payments.models import FailureReason, PaymentLine, Payroll
from shebao.payments.selectors import failed_lines_visible_to, payroll_lines


def _masks(user: Any):  # type: ignore[no-untyped-def]
    full = user.sees_full_ids
    return (lambda v: v) if full else mask_ssn, (lambda v: v) if full else mask_account


class PayrollLineExporter(ListExporter):
    sheet_name = "发放明细"

    def __init__(self, user: Any, payroll: Payroll):
        self.user, self.payroll = user, payroll

    def headers(self) -> Sequence[str]:
        return [
            "批次号",
            "序号",
            "社会保障号码",
            "姓名",
            "所属期",
            "类型",
            "金额",
            "银行",
            "银行账号",
            "户名",
            "状态",
            "说明",
        ]

    def column_widths(self) -> Sequence[int]:
        return [26, 8, 22, 12, 10, 10, 12, 14, 24, 12, 10, 40]

    def rows(self) -> Iterable[Sequence[Any]]:
        ssn, account = _masks(self.user)
        states, kinds = dict(PaymentLine.State.choices), dict(PaymentLine.Kind.choices)
        failures = dict(FailureReason.choices)
        # Lines are numbered into their bank's file from generation, but the number is final only once
        # the payroll is filed (held lines leave, gaps close): before that no batch or number is shown.
        filed = self.payroll.is_sent
        qs = payroll_lines(self.payroll).values_list(
            "bank_file__batch_no",
            "seq",
            "person__ssn",
            "person__name",
            "period",
            "kind",
            "amount",
            "bank__name",
            "account_no",
            "account_name",
            "state",
            "hold_reason",
            "failure_code",
            "failure_text",
        )
        for (
            batch,
            seq,
            s,
            name,
            period,
            kind,
            amount,
            bank,
            acct,
            acct_name,
            state,
            hold,
            fcode,
            ftext,
        ) in qs.iterator(chunk_size=5000):
            note = (
                hold
                if state == "held"
                else (f"{failures.get(fcode, fcode)} {ftext}".strip() if fcode else "")
            )
            yield [
                (batch or "") if filed else "",
                seq if filed else None,
                ssn(s),
                name,
                str(period),
                kinds.get(kind, kind),
                amount,
                bank or "",
                account(acct),
                acct_name,
                states.get(state, state),
                note,
            ]


class FailureExporter(ListExporter):
    sheet_name = "发放失败"

    def __init__(self, user: Any, reason: str = "", status: str = "all"):
        self.user, self.reason, self.status = user, reason, status

    def headers(self) -> Sequence[str]:
        return [
            "所属期",
            "待遇",
            "社会保障号码",
            "姓名",
            "参保单位",
            "乡镇",
            "金额",
            "银行",
            "银行账号",
            "户名",
            "失败原因",
            "银行说明",
        ]

    def column_widths(self) -> Sequence[int]:
        return [10, 16, 22, 12, 24, 12, 12, 14, 24, 12, 14, 30]

    def rows(self) -> Iterable[Sequence[Any]]:
        ssn, account = _masks(self.user)
        failures = dict(FailureReason.choices)
        qs = failed_lines_visible_to(self.user, reason=self.reason, status=self.status).values_list(
            "period",
            "benefit_type__name",
            "person__ssn",
            "person__name",
            "person__employer__name",
            "person__township__name",
            "amount",
            "bank__name",
            "account_no",
            "account_name",
            "failure_code",
            "failure_text",
        )
        for period, bt, s, name, emp, town, amount, bank, acct, acct_name, fcode, ftext in qs.iterator(
            chunk_size=5000
        ):
            yield [
                str(period),
                bt,
                ssn(s),
                name,
                emp or "",
                town or "",
                amount,
                bank or "",
                account(acct),
                acct_name,
                failures.get(fcode, fcode),
                ftext,
            ]

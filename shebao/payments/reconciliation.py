"""Reconciliation to the fen: per bank file and per payroll, paid + failed + pending + held = issued.

`payroll_reconcile` asserts it (and more: the lines still match the approval snapshot and each bank
file's control totals and return file). Every return-file import calls it inside its transaction, so
an import that would break it is rolled back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import BigIntegerField, Count, F, Sum
from django.db.models.functions import Cast, Round

from shebao.core.errors import DomainError
from shebao.core.values.money import from_fen
from shebao.payments.models import BankFile, FailureReason, PaymentLine, Payroll

ZERO = Decimal("0.00")
S = PaymentLine.State


def fen_sum(field: str = "amount") -> Sum:
    """Sum of a money column in whole fen. SQLite keeps decimals as floating point and sums them as
    floats; summing rounded integers is exact on every database, whatever the number of lines."""
    return Sum(Cast(Round(F(field) * 100), output_field=BigIntegerField()))


def yuan(fen: int | None) -> Decimal:
    return from_fen(fen or 0)


class ReconciliationError(DomainError):
    """The figures do not add up; the change that caused it is rolled back."""


@dataclass
class Tally:
    count: int = 0
    amount: Decimal = ZERO

    def add(self, count: int, amount: Decimal | None) -> None:
        self.count += count
        self.amount += amount or ZERO

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tally) and (self.count, self.amount) == (other.count, other.amount)


@dataclass
class FailureFigure:
    code: str
    label: str
    count: int
    amount: Decimal


@dataclass
class Figures:
    issued: Tally = field(default_factory=Tally)
    paid: Tally = field(default_factory=Tally)
    failed: Tally = field(default_factory=Tally)
    pending: Tally = field(default_factory=Tally)
    held: Tally = field(default_factory=Tally)
    people_paid: int = 0
    failures: list[FailureFigure] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        parts = Tally()
        for t in (self.paid, self.failed, self.pending, self.held):
            parts.add(t.count, t.amount)
        return parts == self.issued

    @property
    def success_rate(self) -> Decimal | None:
        """First-pass success (佛山: 369,132 of 369,370 = 99.94%): paid lines over issued lines."""
        if not self.issued.count:
            return None
        return (Decimal(self.paid.count) * 100 / self.issued.count).quantize(Decimal("0.01"))


def _figures(lines, *, detail: bool = True) -> Figures:  # type: ignore[no-untyped-def]
    fig = Figures()
    by_state = {S.PAID: fig.paid, S.FAILED: fig.failed, S.PENDING: fig.pending, S.HELD: fig.held}
    # Issued is summed on its own, not from the parts, so a line in no known state shows as a gap.
    agg = lines.order_by().aggregate(n=Count("id"), fen=fen_sum())
    fig.issued.add(agg["n"] or 0, yuan(agg["fen"]))
    for state, n, fen in lines.order_by().values_list("state").annotate(n=Count("id"), fen=fen_sum()):
        tally = by_state.get(state)
        if tally is not None:
            tally.add(n, yuan(fen))
    if detail:
        fig.people_paid, fig.failures = _detail(lines)
    return fig


def _detail(lines) -> tuple[int, list[FailureFigure]]:  # type: ignore[no-untyped-def]
    """People paid and failures by reason, for the pages (the checks need the tallies only)."""
    people_paid = lines.filter(state=S.PAID).order_by().values("person_id").distinct().count()
    labels = dict(FailureReason.choices)
    rows = (
        lines.filter(state=S.FAILED)
        .order_by()
        .values_list("failure_code")
        .annotate(n=Count("id"), fen=fen_sum())
        .order_by("-n", "failure_code")
    )
    return people_paid, [
        FailureFigure(code, str(labels.get(code, code)), n, yuan(fen)) for code, n, fen in rows
    ]


def payroll_figures(payroll: Payroll) -> Figures:
    return _figures(PaymentLine.objects.filter(payroll=payroll))


def bank_file_figures(bank_file: BankFile) -> Figures:
    return _figures(PaymentLine.objects.filter(bank_file=bank_file))


def _check_total(what: str, got: Tally, count: int | None, amount: Decimal | None) -> None:
    if count is None or amount is None:
        return
    if got != Tally(count, amount):
        raise ReconciliationError(f"{what}不平：明细{got.count}笔{got.amount}元，控制数{count}笔{amount}元")


def _check_bank_file(bank_file: BankFile, fig: Figures) -> None:
    name = f"代发文件{bank_file.batch_no}"
    if not fig.balanced:
        raise ReconciliationError(f"{name}：成功+失败+待返回≠发出")
    if fig.held.count:
        raise ReconciliationError(f"{name}：含暂缓发放的明细")
    _check_total(name, fig.issued, bank_file.control_count, bank_file.control_total)
    ret = getattr(bank_file, "return_file", None) if bank_file.pk else None
    if ret is not None:
        if fig.pending.count:
            raise ReconciliationError(f"{name}：回盘已导入，仍有{fig.pending.count}笔未返回结果")
        _check_total(f"{name}成功部分", fig.paid, ret.ok_count, ret.ok_amount)
        _check_total(f"{name}失败部分", fig.failed, ret.fail_count, ret.fail_amount)


def filing_reconcile(payroll: Payroll, files: list[BankFile]) -> Tally:
    """At filing: what the files carry plus what the pre-flight held back is what was approved, to the fen.

    Each file's count and total come from rendering it (every line of the file, read once for the
    bytes); the held lines are summed here. Before a file exists a line is pending or held, every
    pending line is in the file of its bank (``_number_files``) and a file holds nothing else, so a line
    missing from a file, or in any other state, breaks the equation and the filing is rolled back."""
    issued = Tally()
    for bank_file in files:
        issued.add(bank_file.control_count, bank_file.control_total)
    held = PaymentLine.objects.filter(payroll=payroll, state=S.HELD).aggregate(n=Count("id"), fen=fen_sum())
    issued.add(held["n"] or 0, yuan(held["fen"]))
    _check_total(
        f"发放表{payroll}报盘（各代发文件+暂缓）与复核时",
        issued,
        payroll.control_count,
        payroll.control_total,
    )
    return issued


def bank_file_reconcile(bank_file: BankFile) -> Figures:
    """Assert that one bank file adds up (its control totals, its return file); one GROUP BY state
    over the file's lines (issued is summed over the groups, so a line in no known state is a gap)."""
    fig = Figures()
    for state, n, fen in (
        PaymentLine.objects.filter(bank_file=bank_file)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"), fen=fen_sum())
    ):
        _add(fig, state, n, fen)
    _check_bank_file(bank_file, fig)
    return fig


def _add(fig: Figures, state: str, n: int, fen: int | None) -> None:
    amount = yuan(fen)
    fig.issued.add(n, amount)
    tally = {S.PAID: fig.paid, S.FAILED: fig.failed, S.PENDING: fig.pending, S.HELD: fig.held}.get(state)  # type: ignore[call-overload]
    if tally is not None:
        tally.add(n, amount)


def payroll_reconcile(
    payroll: Payroll, *, bank_files: list[BankFile] | None = None, detail: bool = True
) -> Figures:
    """Assert that the payroll adds up to the fen; raise ReconciliationError naming what does not.

    One GROUP BY bank file and state gives the payroll's tallies and every file's (issued is summed
    over all groups, so a line in no known state shows as a gap). `bank_files` limits the per-file
    checks to the files a step touched (a return import checks its own file; the payroll-wide totals
    are always checked)."""
    lines = PaymentLine.objects.filter(payroll=payroll)
    fig = Figures()
    per_file: dict[int | None, Figures] = defaultdict(Figures)
    for file_id, state, n, fen in (
        lines.order_by().values_list("bank_file_id", "state").annotate(n=Count("id"), fen=fen_sum())
    ):
        _add(fig, state, n, fen)
        _add(per_file[file_id], state, n, fen)
    if detail:
        fig.people_paid, fig.failures = _detail(lines)
    if not fig.balanced:
        raise ReconciliationError(f"发放表{payroll}：成功+失败+待发+暂缓≠应发")
    _check_total(f"发放表{payroll}与复核时", fig.issued, payroll.control_count, payroll.control_total)
    if bank_files is None:
        bank_files = list(BankFile.objects.filter(payroll=payroll).select_related("return_file"))
    for bank_file in bank_files:
        _check_bank_file(bank_file, per_file.get(bank_file.pk) or Figures())
    outside = per_file.get(None) or Figures()
    if outside.paid.count or outside.failed.count or outside.issued != _sum(outside.pending, outside.held):
        raise ReconciliationError(f"发放表{payroll}：未报盘的明细不应有发放结果")
    return fig


def _sum(*tallies: Tally) -> Tally:
    total = Tally()
    for t in tallies:
        total.add(t.count, t.amount)
    return total

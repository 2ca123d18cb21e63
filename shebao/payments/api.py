"""Payment statements and failures for the API: what was paid to a person, when, to which account, and
which payments failed and why. Read through the payments selectors (the same scope as the pages); ID and
account numbers masked unless the role needs them or it is the holder's own record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from shebao.core.errors import PermissionDenied
from shebao.core.values.masking import mask_account, mask_ssn
from shebao.payments.models import FailureReason, PaymentLine
from shebao.payments.selectors import failed_lines_visible_to, payment_statement

router = Router(tags=["待遇发放"])


class StatementLineOut(Schema):
    id: int
    period: int
    benefit_code: str
    benefit: str
    kind: str
    kind_label: str
    amount: Decimal
    bank: str | None
    account_no: str
    account_name: str
    batch_no: str | None
    filed_on: date | None
    state: str
    result: str
    failure_code: str
    failure_reason: str


class StatementOut(Schema):
    person_id: int
    person_name: str
    ssn: str
    paid_total: Decimal
    lines: list[StatementLineOut]


class FailureOut(Schema):
    id: int
    person_id: int
    person_name: str
    ssn: str
    employer: str | None
    township: str | None
    period: int
    benefit: str
    amount: Decimal
    bank: str | None
    account_no: str
    account_name: str
    failure_code: str
    failure_reason: str
    bank_text: str


def _require(request: HttpRequest, action: str) -> None:
    if not request.user.can(action):  # type: ignore[union-attr]
        raise HttpError(403, "您的角色无权进行此操作")


def _own(request: HttpRequest, person_id: int) -> bool:
    return getattr(request.user, "person_id", None) == person_id


def _full(request: HttpRequest, person_id: int) -> bool:
    return bool(request.user.sees_full_ids) or _own(request, person_id)  # type: ignore[union-attr]


def _result(line: PaymentLine) -> str:
    """The words the statement page shows for a line's outcome."""
    if line.state == PaymentLine.State.PAID:
        return "已发放"
    if line.state == PaymentLine.State.FAILED:
        return f"发放失败：{line.get_failure_code_display()}"
    if line.state == PaymentLine.State.HELD:
        return "暂缓发放"
    return "银行处理中" if line.sent_file else "待发放"


def _line_out(line: PaymentLine, *, full: bool) -> dict[str, Any]:
    bank_file = line.sent_file
    return {
        "id": line.pk,
        "period": line.period,
        "benefit_code": line.payroll.benefit_type.code,
        "benefit": line.payroll.benefit_type.name,
        "kind": line.kind,
        "kind_label": line.get_kind_display(),
        "amount": line.amount,
        "bank": line.bank.name if line.bank_id else None,  # type: ignore[union-attr]
        "account_no": line.account_no if full else mask_account(line.account_no),
        "account_name": line.account_name,
        "batch_no": bank_file.batch_no if bank_file else None,
        "filed_on": bank_file.business_date if bank_file else None,
        "state": line.state,
        "result": _result(line),
        "failure_code": line.failure_code,
        "failure_reason": line.get_failure_code_display() if line.failure_code else "",
    }


def _statement(request: HttpRequest, person_id: int) -> dict[str, Any]:
    person, lines = payment_statement(request.user, person_id)
    full = _full(request, person.pk)
    out = [_line_out(line, full=full) for line in lines]
    return {
        "person_id": person.pk,
        "person_name": person.name,
        "ssn": person.ssn if full else mask_ssn(person.ssn),
        "paid_total": sum(
            (line["amount"] for line in out if line["state"] == PaymentLine.State.PAID), Decimal("0.00")
        ),
        "lines": out,
    }


@router.get(
    "/payments/statements/mine",
    response=StatementOut,
    summary="本人待遇发放记录（持卡人）",
)
def my_statement(request: HttpRequest) -> Any:
    _require(request, "payment.my_statement")
    person_id = getattr(request.user, "person_id", None)
    if not person_id:
        raise PermissionDenied("仅持卡人本人可查看本人待遇发放记录")
    return _statement(request, person_id)


@router.get(
    "/payments/statements/{person_id}",
    response=StatementOut,
    summary="待遇发放记录：发了什么、何时、发到哪个账户（按管辖范围）",
)
def statement(request: HttpRequest, person_id: int) -> Any:
    _require(request, "payment.statement")
    return _statement(request, person_id)


class _LazyFailures:
    """Serialise only the page the paginator slices."""

    def __init__(self, request: HttpRequest, qs: Any):
        self.request, self.qs = request, qs

    def __len__(self) -> int:
        return int(self.qs.count())

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        out = []
        for line in self.qs[item]:
            full = _full(self.request, line.person_id)
            person = line.person
            out.append(
                {
                    "id": line.pk,
                    "person_id": person.pk,
                    "person_name": person.name,
                    "ssn": person.ssn if full else mask_ssn(person.ssn),
                    "employer": person.employer.name if person.employer_id else None,
                    "township": person.township.name if person.township_id else None,
                    "period": line.period,
                    "benefit": line.payroll.benefit_type.name,
                    "amount": line.amount,
                    "bank": line.bank.name if line.bank_id else None,  # type: ignore[union-attr]
                    "account_no": line.account_no if full else mask_account(line.account_no),
                    "account_name": line.account_name,
                    "failure_code": line.failure_code,
                    "failure_reason": line.get_failure_code_display(),
                    "bank_text": line.failure_text,
                }
            )
        return out


@router.get(
    "/payments/failures",
    response=list[FailureOut],
    summary="发放失败人员及原因（单位、乡镇只见本单位、本乡镇人员）",
)
@paginate(LimitOffsetPagination)
def failures(request: HttpRequest, reason: str = "") -> Any:
    _require(request, "payment.failures")
    if reason and reason not in FailureReason.values:
        raise HttpError(400, f"未知的失败原因：{reason}")
    return _LazyFailures(request, failed_lines_visible_to(request.user, reason=reason))

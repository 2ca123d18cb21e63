"""Entitlement import (待遇资格导入): validate the whole file first and report every problem by row and
column; then write everything in one transaction, or nothing. The same file twice changes nothing.

Columns: 社会保障号码, 待遇代码, 起始期, 月待遇金额, and optionally 终止期. A row for a person who has no
live entitlement of that type creates one; a row for a live one with a different amount adds an amount
row from 起始期 (amount changes are effective-dated rows, never updates).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import IntegrityError, transaction

from shebao.audit.services import audit_record_many
from shebao.core.errors import PermissionDenied, ValidationError
from shebao.core.values.money import parse_yuan
from shebao.core.values.period import parse_period
from shebao.core.values.ssn import parse_ssn
from shebao.payments import actions
from shebao.payments.models import BenefitType, Entitlement, EntitlementAmount
from shebao.people.importers import (
    CellError,
    ImportRejected,
    Problem,
    cell_text,
    clean_identifier_cell,
    file_sha256,
    read_rows,
)
from shebao.people.models import ImportBatch
from shebao.people.selectors import persons_visible_to

KIND = "entitlements"
SSN, TYPE, FROM, AMOUNT, TO = "社会保障号码", "待遇代码", "起始期", "月待遇金额", "终止期"
REQUIRED = (SSN, TYPE, FROM, AMOUNT)
MAX_PROBLEMS = 500
CHUNK = 1000


@dataclass
class Row:
    row: int
    ssn: str
    benefit_type: BenefitType
    from_period: int
    amount: Decimal
    to_period: int | None


@dataclass
class EntitlementImportResult:
    duplicate: bool
    created: int = 0
    changed: int = 0
    unchanged: int = 0


def _parse(path: Path) -> tuple[list[Row], list[Problem], int]:
    types = {t.code: t for t in BenefitType.objects.all()}
    rows: list[Row] = []
    problems: list[Problem] = []
    header: dict[str, int] | None = None
    count = 0
    seen: dict[tuple[str, str], int] = {}
    for number, cells in read_rows(path):
        texts = [cell_text(c) for c in cells]
        if header is None:
            header = {t: i for i, t in enumerate(texts) if t}
            missing = [h for h in REQUIRED if h not in header]
            if missing:
                return [], [Problem(None, "", "", f"表头缺少列：{'、'.join(missing)}")], 0
            continue
        if not any(texts):
            continue
        count += 1

        def cell(name: str, cells: list = cells, header: dict[str, int] = header) -> object:  # type: ignore[type-arg]
            i = header.get(name)
            return cells[i] if i is not None and i < len(cells) else ""

        bad = len(problems)
        try:
            ssn = parse_ssn(clean_identifier_cell(cell(SSN))).value
        except (CellError, ValidationError) as exc:
            problems.append(Problem(number, SSN, cell_text(cell(SSN)), str(exc)))
            ssn = ""
        code = cell_text(cell(TYPE)).upper()
        if code not in types:
            problems.append(Problem(number, TYPE, code, f"未知的待遇代码（可用：{'、'.join(types)}）"))
        periods: dict[str, int | None] = {}
        for name in (FROM, TO):
            text = cell_text(cell(name))
            if name == TO and not text:
                periods[name] = None
                continue
            try:
                periods[name] = parse_period(text)
            except ValidationError as exc:
                problems.append(Problem(number, name, text, exc.message))
        try:
            amount = parse_yuan(cell_text(cell(AMOUNT)))
            if amount <= 0:
                raise ValidationError("金额应大于0")
        except ValidationError as exc:
            problems.append(Problem(number, AMOUNT, cell_text(cell(AMOUNT)), exc.message))
        if len(problems) > bad:
            continue
        to_period = periods[TO]
        if to_period is not None and to_period < periods[FROM]:  # type: ignore[operator]
            problems.append(Problem(number, TO, str(to_period), "终止期不能早于起始期"))
            continue
        if (ssn, code) in seen:
            problems.append(
                Problem(number, SSN, ssn, f"与第{seen[(ssn, code)]}行重复（同一人同一待遇只能有一行）")
            )
            continue
        seen[(ssn, code)] = number
        rows.append(Row(number, ssn, types[code], periods[FROM], amount, to_period))  # type: ignore[arg-type]
    return rows, problems, count


def entitlement_import(*, path: Path, file_name: str, actor) -> EntitlementImportResult:  # type: ignore[no-untyped-def]
    """Import a file of entitlements (see the module docstring)."""
    if not actor.can("entitlement.edit"):
        raise PermissionDenied("您的角色无权导入待遇资格")
    checksum = file_sha256(path)
    if ImportBatch.objects.filter(kind=KIND, checksum=checksum).exists():
        return EntitlementImportResult(duplicate=True)
    rows, problems, count = _parse(path)
    persons: dict[str, int] = {}
    ssns = list({r.ssn for r in rows})
    for i in range(0, len(ssns), CHUNK):
        persons.update(persons_visible_to(actor).filter(ssn__in=ssns[i : i + CHUNK]).values_list("ssn", "pk"))
    live: dict[tuple[int, int], Entitlement] = {}
    ids = list(persons.values())
    for i in range(0, len(ids), CHUNK):
        for ent in Entitlement.objects.filter(person_id__in=ids[i : i + CHUNK]).exclude(
            state=Entitlement.State.TERMINATED
        ):
            live[(ent.person_id, ent.benefit_type_id)] = ent
    current: dict[int, Decimal] = {}
    for ent_id, amount in (
        EntitlementAmount.objects.filter(entitlement__in=list(live.values()))
        .order_by("entitlement_id", "valid_from", "id")
        .values_list("entitlement_id", "amount")
    ):
        current[ent_id] = amount  # the last row by valid_from wins
    creates: list[Row] = []
    changes: list[tuple[Entitlement, Row]] = []
    unchanged = 0
    for r in rows:
        pid = persons.get(r.ssn)
        if pid is None:
            problems.append(Problem(r.row, SSN, r.ssn, "在您的管辖范围内没有该人员，请先导入人员"))
            continue
        existing = live.get((pid, r.benefit_type.pk))
        if existing is None:
            creates.append(r)
        elif current.get(existing.pk) == r.amount:
            unchanged += 1
        elif r.from_period < existing.from_period:
            problems.append(
                Problem(
                    r.row, FROM, str(r.from_period), f"调整起始期不能早于原待遇起始期{existing.from_period}"
                )
            )
        else:
            changes.append((existing, r))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column))
        raise ImportRejected(problems[:MAX_PROBLEMS], row_count=count, total=len(problems))
    with transaction.atomic():
        try:
            with transaction.atomic():
                ImportBatch.objects.create(
                    kind=KIND,
                    file_name=file_name[:255],
                    checksum=checksum,
                    row_count=count,
                    created_count=len(creates),
                    updated_count=len(changes),
                    unchanged_count=unchanged,
                    created_by=actor,
                )
        except IntegrityError:
            return EntitlementImportResult(duplicate=True)
        new = Entitlement.objects.bulk_create(
            [
                Entitlement(
                    person_id=persons[r.ssn],
                    benefit_type=r.benefit_type,
                    from_period=r.from_period,
                    to_period=r.from_period
                    if r.benefit_type.kind == BenefitType.Kind.ONE_OFF
                    else r.to_period,
                    created_by=actor,
                )
                for r in creates
            ],
            batch_size=CHUNK,
        )
        amounts = [
            EntitlementAmount(
                entitlement=e, amount=r.amount, valid_from=r.from_period, note="批量导入", created_by=actor
            )
            for e, r in zip(new, creates, strict=True)
        ]
        amounts += [
            EntitlementAmount(
                entitlement=e,
                amount=r.amount,
                valid_from=r.from_period,
                note="批量导入调整",
                created_by=actor,
            )
            for e, r in changes
        ]
        EntitlementAmount.objects.bulk_create(amounts, batch_size=CHUNK)
        audit_record_many(
            actor=actor,
            action=actions.ENTITLEMENT_IMPORT,
            object_type="payments.entitlement",
            rows=(
                {"object_id": a.entitlement_id, "new": {"amount": a.amount, "valid_from": a.valid_from}}
                for a in amounts
            ),
            reason=f"导入文件 {file_name}",
        )
    return EntitlementImportResult(
        duplicate=False, created=len(creates), changed=len(changes), unchanged=unchanged
    )

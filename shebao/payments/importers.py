"""Entitlement import (待遇资格导入): validate the whole file first and report every problem by row and
column; then write everything in one transaction, or nothing. The same file twice changes nothing.

Columns: 社会保障号码, 待遇代码, 起始期, 月待遇金额, and optionally 终止期. A row for a person who has no
live entitlement of that type creates one; a row for a live one with a different amount adds an amount
row from 起始期 (amount changes are effective-dated rows, never updates). A checked file waits for a
supervisor other than the importer (maker-checker): only their approval applies its rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.money import parse_yuan
from shebao.core.values.period import parse_period
from shebao.core.values.ssn import parse_ssn
from shebao.payments import actions
from shebao.payments.models import (
    ENTITLEMENT_IMPORT_TRANSITIONS,
    BackPay,
    BenefitType,
    Entitlement,
    EntitlementAmount,
    EntitlementImport,
    EntitlementImportRow,
)
from shebao.people.importers import (
    CellError,
    ImportRejected,
    Problem,
    cell_text,
    clean_identifier_cell,
    data_rows,
    file_sha256,
    parse_day,
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
    batch: EntitlementImport | None = None


def _parse(path: Path) -> tuple[list[Row], list[Problem], int]:
    types = {t.code: t for t in BenefitType.objects.all()}
    rows: list[Row] = []
    problems: list[Problem] = []
    count = 0
    seen: dict[tuple[str, str], int] = {}
    for number, cell in data_rows(path, REQUIRED):
        count += 1
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


def _classify(
    rows: list[Row], persons: dict[str, int]
) -> tuple[list[Row], list[tuple[Entitlement, Row]], int, list[Problem]]:
    """Sort checked rows into entitlements to create, amounts to change and rows already in effect,
    against the entitlements as they are now (at the import, and again at the approval)."""
    live: dict[tuple[int, int], Entitlement] = {}
    ids = list(set(persons.values()))
    for i in range(0, len(ids), CHUNK):
        for ent in Entitlement.objects.filter(person_id__in=ids[i : i + CHUNK]).exclude(
            state=Entitlement.State.TERMINATED
        ):
            live[(ent.person_id, ent.benefit_type_id)] = ent
    current: dict[int, Decimal] = {}
    live_ids = [e.pk for e in live.values()]
    for i in range(0, len(live_ids), CHUNK):
        for ent_id, amount in (
            EntitlementAmount.objects.filter(entitlement_id__in=live_ids[i : i + CHUNK])
            .order_by("entitlement_id", "valid_from", "id")
            .values_list("entitlement_id", "amount")
        ):
            current[ent_id] = amount  # the last row by valid_from wins
    creates: list[Row] = []
    changes: list[tuple[Entitlement, Row]] = []
    problems: list[Problem] = []
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
    return creates, changes, unchanged, problems


def entitlement_import(*, path: Path, file_name: str, actor) -> EntitlementImportResult:  # type: ignore[no-untyped-def]
    """Check a file of entitlements (see the module docstring) and keep it, row by row, waiting for a
    supervisor's approval (`entitlement_import_decide`): nothing changes before that."""
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
    creates, changes, unchanged, more = _classify(rows, persons)
    problems += more
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
        batch = EntitlementImport.objects.create(
            file_name=file_name[:255],
            checksum=checksum,
            row_count=count,
            created_count=len(creates),
            changed_count=len(changes),
            unchanged_count=unchanged,
            imported_by=actor,
        )
        EntitlementImportRow.objects.bulk_create(
            (
                EntitlementImportRow(
                    batch=batch,
                    row=r.row,
                    person_id=persons[r.ssn],
                    benefit_type=r.benefit_type,
                    from_period=r.from_period,
                    to_period=r.to_period,
                    amount=r.amount,
                )
                for r in rows
            ),
            batch_size=CHUNK,
        )
        audit_record(
            actor=actor,
            action=actions.ENTITLEMENT_IMPORT,
            obj=batch,
            new={"rows": count, "create": len(creates), "change": len(changes), "unchanged": unchanged},
            reason=f"导入文件 {file_name}，待复核",
        )
    return EntitlementImportResult(
        duplicate=False, created=len(creates), changed=len(changes), unchanged=unchanged, batch=batch
    )


def entitlement_import_decide(
    *,
    batch: EntitlementImport,
    approve: bool,
    actor,  # type: ignore[no-untyped-def]
    note: str = "",
) -> EntitlementImportResult:
    """A supervisor other than the importer approves a checked entitlement file (its rows then create
    entitlements and amount rows, in one transaction, against the entitlements as they are now) or
    sends it back (nothing changes)."""
    if actor is None or not actor.can("entitlement.approve"):
        raise PermissionDenied("只有中心复核员可以复核待遇资格导入")
    S = EntitlementImport.State
    with transaction.atomic():
        locked = EntitlementImport.objects.select_for_update().get(pk=batch.pk)
        to_state = S.APPROVED if approve else S.REJECTED
        if to_state not in ENTITLEMENT_IMPORT_TRANSITIONS[locked.state]:
            raise StateError(f"该导入文件已{locked.get_state_display()}")
        if locked.imported_by_id == actor.pk:
            raise PermissionDenied("不能复核自己导入的文件，请由另一名复核员办理")
        result = EntitlementImportResult(duplicate=False, batch=locked)
        if approve:
            staged = list(locked.rows.select_related("benefit_type", "person").order_by("row"))
            rows = [
                Row(s.row, s.person.ssn, s.benefit_type, s.from_period, s.amount, s.to_period) for s in staged
            ]
            persons = {s.person.ssn: s.person_id for s in staged}
            creates, changes, unchanged, problems = _classify(rows, persons)
            if problems:
                listed = "；".join(str(p) for p in problems[:5])
                raise StateError(f"导入后待遇资格已有变化，本文件不能生效（{listed}），请退回后重新导入")
            _apply(
                creates, changes, persons, file_name=locked.file_name, maker=locked.imported_by, actor=actor
            )
            result.created, result.changed, result.unchanged = len(creates), len(changes), unchanged
        EntitlementImport.objects.filter(pk=locked.pk, state=S.PENDING).update(
            state=to_state, decided_by=actor, decided_at=timezone.now(), decision_note=note.strip()[:200]
        )
        audit_record(
            actor=actor,
            action=actions.ENTITLEMENT_IMPORT_DECIDE,
            obj=locked,
            old={"state": locked.state},
            new={
                "state": to_state,
                "created": result.created,
                "changed": result.changed,
                "unchanged": result.unchanged,
            },
            reason=note,
        )
    batch.refresh_from_db()
    return result


def _arrears_for(changes: list[tuple[Entitlement, Row]], *, actor) -> int:  # type: ignore[no-untyped-def]
    """Changes backdated into months already paid owe the difference (补差): one BackPay each. The
    last payroll run is looked up once per benefit type and region, not per row."""
    from shebao.payments.services import _last_payroll_run
    from shebao.people.models import Person

    regions: dict[int, int] = {}
    ids = [e.person_id for e, _ in changes]
    for i in range(0, len(ids), CHUNK):
        regions.update(Person.objects.filter(pk__in=ids[i : i + CHUNK]).values_list("pk", "region_id"))
    last_run: dict[tuple[int, int], int] = {}
    rows = []
    for ent, r in changes:
        key = (ent.benefit_type_id, regions[ent.person_id])
        if key not in last_run:
            probe = Entitlement(benefit_type_id=ent.benefit_type_id, person=Person(region_id=key[1]))
            last_run[key] = _last_payroll_run(probe)
        last = last_run[key] if ent.to_period is None else min(last_run[key], ent.to_period)
        if last >= r.from_period:
            rows.append(
                BackPay(
                    entitlement=ent,
                    from_period=r.from_period,
                    to_period=last,
                    reason=f"待遇金额自{r.from_period}起调整（批量导入），补发已发放月份的差额",
                    created_by=actor,
                )
            )
    BackPay.objects.bulk_create(rows, batch_size=CHUNK)
    _overpayments_for(rows, {ent.pk: r.amount for ent, r in changes}, actor=actor)
    return len(rows)


def _overpayments_for(backdated: list[BackPay], new_amount: dict[int, Decimal], *, actor) -> int:  # type: ignore[no-untyped-def]
    """A backdated decrease: the months already paid at more than the new amount become overpayments.
    One query per chunk finds the entitlements with such a month; only those are worked out one by one."""
    from shebao.payments.arrears import overpayments_open
    from shebao.payments.models import PaymentLine

    made = 0
    for i in range(0, len(backdated), CHUNK):
        chunk = {
            (bp.entitlement.person_id, bp.entitlement.benefit_type_id): bp for bp in backdated[i : i + CHUNK]
        }
        if not chunk:
            continue
        higher: set[tuple[int, int]] = set()
        for person_id, benefit_type_id, period, amount in PaymentLine.objects.filter(
            person_id__in=list({key[0] for key in chunk}),
            state=PaymentLine.State.PAID,
            period__gte=min(bp.from_period for bp in chunk.values()),
            kind__in=[PaymentLine.Kind.NORMAL, PaymentLine.Kind.BACK_PAY],
        ).values_list("person_id", "benefit_type_id", "period", "amount"):
            found = chunk.get((person_id, benefit_type_id))
            if (
                found is not None
                and found.from_period <= period <= found.to_period
                and amount > new_amount[found.entitlement.pk]
            ):
                higher.add((person_id, benefit_type_id))
        for key in sorted(higher):
            bp = chunk[key]
            made += overpayments_open(
                entitlement=bp.entitlement, from_period=bp.from_period, to_period=bp.to_period, actor=actor
            )
    return made


def _apply(creates, changes, persons, *, file_name: str, maker, actor) -> None:  # type: ignore[no-untyped-def]
    new = Entitlement.objects.bulk_create(
        [
            Entitlement(
                person_id=persons[r.ssn],
                benefit_type=r.benefit_type,
                from_period=r.from_period,
                to_period=r.from_period if r.benefit_type.kind == BenefitType.Kind.ONE_OFF else r.to_period,
                created_by=maker,
            )
            for r in creates
        ],
        batch_size=CHUNK,
    )
    amounts = [
        EntitlementAmount(
            entitlement=e, amount=r.amount, valid_from=r.from_period, note="批量导入", created_by=maker
        )
        for e, r in zip(new, creates, strict=True)
    ]
    amounts += [
        EntitlementAmount(
            entitlement=e, amount=r.amount, valid_from=r.from_period, note="批量导入调整", created_by=maker
        )
        for e, r in changes
    ]
    EntitlementAmount.objects.bulk_create(amounts, batch_size=CHUNK)
    _arrears_for(changes, actor=actor)
    audit_record_many(
        actor=actor,
        action=actions.ENTITLEMENT_IMPORT,
        object_type="payments.entitlement",
        rows=(
            {"object_id": a.entitlement_id, "new": {"amount": a.amount, "valid_from": a.valid_from}}
            for a in amounts
        ),
        reason=f"复核通过导入文件 {file_name}",
    )


# --- passive certification by data match (数据比对静默认证) ------------------------------------------

CERT_KIND = "certifications_data_match"
NAME, SEEN_ON, SOURCE = "姓名", "比对日期", "数据来源"
CERT_REQUIRED = (SSN, SEEN_ON)


@dataclass
class CertificationImportResult:
    duplicate: bool
    rows: int = 0
    certified: int = 0
    unchanged: int = 0
    resumed: int = 0
    back_pay_months: int = 0


@dataclass
class _Seen:
    row: int
    ssn: str
    name: str
    seen_on: dt.date
    source: str


def _parse_seen(path: Path, *, today: dt.date, earliest: dt.date) -> tuple[list[_Seen], list[Problem], int]:
    rows: list[_Seen] = []
    problems: list[Problem] = []
    count = 0
    for number, cell in data_rows(path, CERT_REQUIRED):
        count += 1
        bad = len(problems)
        try:
            ssn = parse_ssn(clean_identifier_cell(cell(SSN))).value
        except (CellError, ValidationError) as exc:
            problems.append(Problem(number, SSN, cell_text(cell(SSN)), str(exc)))
            ssn = ""
        seen_on = today
        try:
            seen_on = parse_day(cell(SEEN_ON))
        except CellError as exc:
            problems.append(Problem(number, SEEN_ON, cell_text(cell(SEEN_ON)), str(exc)))
        else:
            if seen_on > today:
                problems.append(Problem(number, SEEN_ON, f"{seen_on:%Y-%m-%d}", "比对日期不能晚于今天"))
            elif seen_on < earliest:
                problems.append(
                    Problem(
                        number,
                        SEEN_ON,
                        f"{seen_on:%Y-%m-%d}",
                        f"比对日期早于{earliest:%Y-%m-%d}，已超出认证有效期",
                    )
                )
        source = cell_text(cell(SOURCE))
        if len(source) > 50:
            problems.append(Problem(number, SOURCE, source[:20], "数据来源最多50个字"))
        if len(problems) > bad:
            continue
        rows.append(_Seen(number, ssn, cell_text(cell(NAME)), seen_on, source))
    return rows, problems, count


def certification_import(
    *,
    path: Path,
    file_name: str,
    source: str,
    actor,  # type: ignore[no-untyped-def]
) -> CertificationImportResult:
    """Certify, with channel “数据比对”, the people another data source saw alive (medical claims,
    public transport, …). Columns 社会保障号码 and 比对日期, optionally 姓名 (checked against the
    register) and 数据来源 (else `source`). Every row is checked first and any problem rejects the whole
    file; a person listed twice is certified once at the latest date; a person already certified on or
    after that date is left alone; the same file twice changes nothing. Entitlements suspended for want
    of certification resume, with the missed months back-paid, as for a certification at the counter."""
    from django.utils import timezone

    from shebao.core.values.names import normalize_name
    from shebao.payments.models import Certification
    from shebao.payments.services import certification_months, certification_resume

    if not actor.can("certification.import"):
        raise PermissionDenied("您的角色无权导入数据比对认证")
    source = (source or "").strip()[:50]
    checksum = file_sha256(path)
    if ImportBatch.objects.filter(kind=CERT_KIND, checksum=checksum).exists():
        return CertificationImportResult(duplicate=True)
    today = timezone.localdate()
    earliest = prev_months(today, certification_months())
    rows, problems, count = _parse_seen(path, today=today, earliest=earliest)
    persons: dict[str, tuple[int, str, dt.date | None]] = {}
    ssns = list({r.ssn for r in rows})
    for i in range(0, len(ssns), CHUNK):
        for pk, ssn, name, died in (
            persons_visible_to(actor)
            .filter(ssn__in=ssns[i : i + CHUNK])
            .values_list("pk", "ssn", "name", "death_date")
        ):
            persons[ssn] = (pk, name, died)
    latest: dict[int, _Seen] = {}
    for r in rows:
        found = persons.get(r.ssn)
        if found is None:
            problems.append(Problem(r.row, SSN, r.ssn, "在您的管辖范围内没有该人员"))
            continue
        pk, name, died = found
        if r.name and normalize_name(r.name) != normalize_name(name):
            problems.append(Problem(r.row, NAME, r.name, f"与该社会保障号码登记的姓名“{name}”不符"))
            continue
        if died is not None:
            problems.append(
                Problem(r.row, SSN, r.ssn, f"{name}已登记于{died:%Y-%m-%d}死亡，不能认证，请核查比对数据")
            )
            continue
        if pk not in latest or r.seen_on > latest[pk].seen_on:
            latest[pk] = r
    if not rows and not problems:
        problems.append(Problem(None, "", "", "文件中没有数据行"))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column))
        raise ImportRejected(problems[:MAX_PROBLEMS], row_count=count, total=len(problems))
    certified_since: dict[int, dt.date] = {}
    ids = list(latest)
    for i in range(0, len(ids), CHUNK):
        for pk, last in (
            Certification.objects.filter(person_id__in=ids[i : i + CHUNK])
            .values_list("person_id")
            .annotate(last=Max("certified_on"))
        ):
            certified_since[pk] = last
    new = {
        pk: r
        for pk, r in latest.items()
        if certified_since.get(pk) is None or certified_since[pk] < r.seen_on
    }
    resumed = months = 0
    with transaction.atomic():
        try:
            with transaction.atomic():
                ImportBatch.objects.create(
                    kind=CERT_KIND,
                    file_name=file_name[:255],
                    checksum=checksum,
                    row_count=count,
                    created_count=len(new),
                    unchanged_count=len(latest) - len(new),
                    created_by=actor,
                )
        except IntegrityError:
            return CertificationImportResult(duplicate=True)
        Certification.objects.bulk_create(
            [
                Certification(
                    person_id=pk,
                    certified_on=r.seen_on,
                    channel=Certification.Channel.DATA_MATCH,
                    note=f"数据比对：{r.source or source}"[:200],
                    recorded_by=actor,
                )
                for pk, r in new.items()
            ],
            batch_size=CHUNK,
        )
        new_ids = list(new)
        suspended: set[int] = set()
        for i in range(0, len(new_ids), CHUNK):
            suspended.update(
                Entitlement.objects.filter(
                    person_id__in=new_ids[i : i + CHUNK],
                    state=Entitlement.State.SUSPENDED,
                    reason=Entitlement.Reason.NO_SURVIVAL_PROOF,
                ).values_list("person_id", flat=True)
            )
        for pk in sorted(suspended):
            r_resumed, r_months = certification_resume(
                person_id=pk, certified_on=new[pk].seen_on, actor=actor
            )
            resumed, months = resumed + r_resumed, months + r_months
        audit_record_many(
            actor=actor,
            action=actions.CERTIFICATION_IMPORT,
            object_type="people.person",
            rows=(
                {
                    "object_id": pk,
                    "new": {
                        "certified_on": r.seen_on,
                        "channel": Certification.Channel.DATA_MATCH,
                        "source": r.source or source,
                    },
                }
                for pk, r in new.items()
            ),
            reason=f"导入文件 {file_name}",
        )
    return CertificationImportResult(
        duplicate=False,
        rows=count,
        certified=len(new),
        unchanged=len(latest) - len(new),
        resumed=resumed,
        back_pay_months=months,
    )


def prev_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the last day of a shorter month)."""
    import calendar

    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))

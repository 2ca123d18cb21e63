"""Death import (死亡信息导入): deaths reported in a file by relatives, units or civil-affairs / police data.

Columns 社会保障号码 and 死亡日期, optionally 姓名 (checked against the register) and 信息来源 (else the
source chosen on the page). Every row is checked first, every problem is listed by row and column and
any problem rejects the whole file; then every death is recorded in one transaction exactly as at the
counter (`death_record`: entitlements end at the month of death, later months leave drafts or are held,
anything already paid for later months becomes an overpayment to recover). A person already recorded
with the same date is left alone; a different date is refused (a correction is a supervisor's); the
same file twice changes nothing. The page then lists the people recorded, each with the family's
funeral grant and survivor pension to offer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.names import normalize_name
from shebao.core.values.ssn import parse_ssn
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

KIND = "deaths"
SSN, NAME, DIED, SOURCE = "社会保障号码", "姓名", "死亡日期", "信息来源"
REQUIRED = (SSN, DIED)
MAX_PROBLEMS = 500
CHUNK = 900


@dataclass
class DeathImportResult:
    duplicate: bool
    rows: int = 0
    recorded: int = 0
    unchanged: int = 0
    terminated: int = 0
    held: int = 0
    overpayments: int = 0
    person_ids: list[int] = field(default_factory=list)  # those recorded now, for the family's claims


@dataclass
class _Death:
    row: int
    ssn: str
    name: str
    died: dt.date
    source: str


def _parse(path: Path, today: dt.date) -> tuple[list[_Death], list[Problem], int]:
    rows: list[_Death] = []
    problems: list[Problem] = []
    count = 0
    for number, cell in data_rows(path, REQUIRED):
        count += 1
        bad = len(problems)
        ssn = ""
        try:
            ssn = parse_ssn(clean_identifier_cell(cell(SSN))).value
        except (CellError, ValidationError) as exc:
            problems.append(Problem(number, SSN, cell_text(cell(SSN)), str(exc)))
        died = today
        try:
            died = parse_day(cell(DIED))
        except CellError as exc:
            problems.append(Problem(number, DIED, cell_text(cell(DIED)), str(exc)))
        else:
            if died > today:
                problems.append(Problem(number, DIED, f"{died:%Y-%m-%d}", "死亡日期不能晚于今天"))
        source = cell_text(cell(SOURCE))
        if len(source) > 50:
            problems.append(Problem(number, SOURCE, source[:20], "信息来源最多50个字"))
        if len(problems) > bad:
            continue
        rows.append(_Death(number, ssn, cell_text(cell(NAME)), died, source))
    return rows, problems, count


def death_import(*, path: Path, file_name: str, source: str, actor: Any) -> DeathImportResult:
    """Check the whole file, then record every death in it (see the module docstring)."""
    from shebao.payments.services import death_record

    if not actor.can("death.record"):
        raise PermissionDenied("您的角色不能登记死亡")
    source = (source or "").strip()[:50] or "文件导入"
    checksum = file_sha256(path)
    if ImportBatch.objects.filter(kind=KIND, checksum=checksum).exists():
        return DeathImportResult(duplicate=True)
    today = timezone.localdate()
    rows, problems, count = _parse(path, today)
    persons: dict[str, tuple[int, str, dt.date, dt.date | None]] = {}
    ssns = list({r.ssn for r in rows})
    for i in range(0, len(ssns), CHUNK):
        for pk, ssn, name, born, died in (
            persons_visible_to(actor)
            .filter(ssn__in=ssns[i : i + CHUNK])
            .values_list("pk", "ssn", "name", "birth_date", "death_date")
        ):
            persons[ssn] = (pk, name, born, died)
    todo: dict[int, _Death] = {}
    first_row: dict[int, _Death] = {}
    unchanged: set[int] = set()
    for r in rows:
        found = persons.get(r.ssn)
        if found is None:
            problems.append(Problem(r.row, SSN, r.ssn, "在您的管辖范围内没有该人员"))
            continue
        pk, name, born, recorded = found
        if r.name and normalize_name(r.name) != normalize_name(name):
            problems.append(Problem(r.row, NAME, r.name, f"与该社会保障号码登记的姓名“{name}”不符"))
            continue
        if born and r.died < born:
            problems.append(Problem(r.row, DIED, f"{r.died:%Y-%m-%d}", f"早于出生日期{born:%Y-%m-%d}"))
            continue
        earlier = first_row.get(pk)
        if earlier is not None:
            if earlier.died != r.died:
                problems.append(
                    Problem(
                        r.row,
                        DIED,
                        f"{r.died:%Y-%m-%d}",
                        f"与第{earlier.row}行同一人的死亡日期{earlier.died:%Y-%m-%d}不一致",
                    )
                )
            continue
        first_row[pk] = r
        if recorded is not None:
            if recorded != r.died:
                problems.append(
                    Problem(
                        r.row,
                        DIED,
                        f"{r.died:%Y-%m-%d}",
                        f"{name}已登记死亡日期{recorded:%Y-%m-%d}，更正请由中心复核员处理",
                    )
                )
            else:
                unchanged.add(pk)
            continue
        todo[pk] = r
    if not rows and not problems:
        problems.append(Problem(None, "", "", "文件中没有数据行"))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column))
        raise ImportRejected(problems[:MAX_PROBLEMS], row_count=count, total=len(problems))
    from shebao.people.models import Person

    result = DeathImportResult(duplicate=False, rows=count, unchanged=len(unchanged))
    with transaction.atomic():
        try:
            with transaction.atomic():
                ImportBatch.objects.create(
                    kind=KIND,
                    file_name=file_name[:255],
                    checksum=checksum,
                    row_count=count,
                    created_count=len(todo),
                    unchanged_count=len(unchanged),
                    created_by=actor,
                )
        except IntegrityError:
            return DeathImportResult(duplicate=True)
        for pk in sorted(todo):
            r = todo[pk]
            outcome = death_record(
                person=Person(pk=pk), death_date=r.died, actor=actor, source=r.source or source
            )
            result.recorded += 1
            result.terminated += outcome.terminated
            result.held += outcome.held
            result.overpayments += outcome.overpayments
            result.person_ids.append(pk)
    return result


# --- correcting a death recorded by mistake (更正死亡登记) -----------------------------------------


@dataclass
class DeathCorrection:
    reactivated: int = 0
    released: int = 0
    back_pay_months: int = 0
    overpayments_cancelled: int = 0
    still_held_at_bank: int = 0  # held lines of payrolls already filed: paid by a second payment
    settled_overpayments: int = 0  # refunded or offset before the correction: the clerk follows them up
    reapplied: Any = None


def _death_recorded_by(person_id: int) -> tuple[int | None, dict[int, dict[str, Any]] | None]:
    """Who recorded the death now on file (the last death audit row of the person), and what each
    entitlement it ended was before (None when the row predates that record)."""
    from shebao.audit import actions as core_actions
    from shebao.audit.models import AuditLog

    row = (
        AuditLog.objects.filter(
            action=core_actions.PERSON_DEATH, object_type="people.person", object_id=str(person_id)
        )
        .order_by("-at", "-pk")
        .values_list("actor_id", "new")
        .first()
    )
    if row is None:
        return None, None
    actor_id, new = row
    ended = (new or {}).get("ended")
    return actor_id, ({int(e["id"]): e for e in ended} if isinstance(ended, list) else None)


def death_correct(
    *,
    person: Any,
    death_date: dt.date | None,
    reason: str,
    actor: Any,
) -> DeathCorrection:
    """A centre supervisor corrects a death recorded by mistake: clears it (`death_date=None`, the
    person is alive) or moves it to another date. Never the person who recorded the death.

    In one transaction: the entitlements the death terminated (1401) get back the state, end and
    suspension they had before it (as its audit row recorded them); lines held for the death in payrolls not yet filed go back to pending; the months
    whose payrolls were run since the death are owed as back pay in the next payroll; open
    overpayments for months now owed are cancelled (已撤销). With a new date the death is then
    recorded again exactly as at the counter, so the months after it stop once more.
    """
    from shebao.audit.services import audit_record
    from shebao.core.values.period import next_period, period_of, period_range, prev_period
    from shebao.payments import actions
    from shebao.payments.models import (
        BackPay,
        Entitlement,
        Overpayment,
        PaymentLine,
        Payroll,
        SurvivorClaim,
    )
    from shebao.payments.services import _death_apply, _last_payroll_run, _preflight_apply
    from shebao.people.models import Person

    if actor is None or not actor.can("death.correct"):
        raise PermissionDenied("只有中心复核员可以更正死亡登记")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写更正原因及依据（如民政部门更正函编号）", field="reason")
    today = timezone.localdate()
    if death_date is not None and death_date > today:
        raise ValidationError("死亡日期不能晚于今天", field="death_date")
    LS = PaymentLine.State
    out = DeathCorrection()
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        old_date = locked.death_date
        if old_date is None:
            raise StateError(f"{locked.name}没有死亡登记，无需更正")
        if death_date == old_date:
            raise ValidationError("新的死亡日期与已登记的相同", field="death_date")
        if death_date is not None and locked.birth_date and death_date < locked.birth_date:
            raise ValidationError(f"死亡日期早于出生日期{locked.birth_date:%Y-%m-%d}", field="death_date")
        recorder_id, before = _death_recorded_by(locked.pk)
        if recorder_id is not None and recorder_id == actor.pk:
            raise PermissionDenied("死亡由您本人登记，更正须由另一名复核员办理")
        if (
            death_date is None
            and SurvivorClaim.objects.filter(deceased=locked)
            .exclude(state=SurvivorClaim.State.REJECTED)
            .exists()
        ):
            raise StateError(f"已为{locked.name}核定丧葬补助金和抚恤金，请先追回该笔待遇再撤销死亡登记")
        old_period = period_of(old_date)
        new_period = period_of(death_date) if death_date is not None else None

        # 1. The entitlements the death ended become active again (re-terminated below for a new date).
        ended_for_death = Entitlement.objects.filter(
            person=locked, state=Entitlement.State.TERMINATED, reason=Entitlement.Reason.DEATH
        )
        ended = list(
            ended_for_death.select_for_update()
            .select_related("person", "benefit_type")
            .filter(pk__in=list(before) if before is not None else [])
            if before is not None
            else ended_for_death.select_for_update()
            .select_related("person", "benefit_type")
            .filter(to_period=old_period)  # recorded before the death kept what it ended
        )
        for ent in ended:
            was = (before or {}).get(ent.pk) or {}
            ent.state = was.get("state") or Entitlement.State.ACTIVE
            ent.reason = was.get("reason") or ""
            ent.to_period = was.get("to_period")
            ent.suspended_from = was.get("suspended_from")
            try:
                with transaction.atomic():
                    Entitlement.objects.filter(pk=ent.pk).update(
                        state=ent.state,
                        reason=ent.reason,
                        to_period=ent.to_period,
                        suspended_from=ent.suspended_from,
                    )
            except IntegrityError:
                raise StateError(
                    f"{locked.name}的“{ent.benefit_type.name}”已另有有效待遇资格，请先处理后再更正"
                ) from None
        out.reactivated = len(ended)

        # 2. Lines held for the death go back to pending where the payroll has not gone to the bank;
        # in a filed payroll they stay held and are paid by a second payment (failure queue).
        held = PaymentLine.objects.filter(person=locked, state=LS.HELD, hold_code="death")
        releasing = held.filter(payroll__state__in=[Payroll.State.DRAFT, Payroll.State.APPROVED])
        payroll_ids = sorted(set(releasing.values_list("payroll_id", flat=True)))
        out.released = releasing.update(state=LS.PENDING, hold_code="", hold_reason="")
        # The death hold replaced whatever held the line before (a pre-flight rule: no account, a name
        # the bank file cannot carry): every rule runs again on those payrolls before they are filed.
        for payroll in Payroll.objects.select_for_update().filter(pk__in=payroll_ids).order_by("pk"):
            _preflight_apply(payroll, every_rule=True)
        out.still_held_at_bank = held.update(
            hold_code="death_corrected", hold_reason=f"死亡登记已更正（{reason[:60]}），请安排二次支付"
        )

        # 3. The months run since the death without a line for the person are back-paid.
        owed_to = new_period  # None: alive, every month is owed again
        for ent in ended:
            last = _last_payroll_run(ent)
            if owed_to is not None:
                last = min(last, owed_to)
            if ent.to_period is not None:
                last = min(last, ent.to_period)
            if ent.state == Entitlement.State.SUSPENDED and ent.suspended_from is not None:
                last = min(last, prev_period(ent.suspended_from))  # suspended months stay unpaid
            start = next_period(old_period)
            if last < start:
                continue
            months = set(period_range(start, last)) - set(
                PaymentLine.objects.filter(
                    person=locked,
                    benefit_type_id=ent.benefit_type_id,
                    period__gte=start,
                    period__lte=last,
                    kind__in=[PaymentLine.Kind.NORMAL, PaymentLine.Kind.BACK_PAY],
                ).values_list("period", flat=True)
            )
            if not months:
                continue
            BackPay.objects.create(
                entitlement=ent,
                from_period=min(months),
                to_period=max(months),
                reason=f"死亡登记更正（原{old_date:%Y-%m-%d}），补发停发期间待遇",
                created_by=actor,
            )
            out.back_pay_months += len(months)

        # 4. Overpayments for months now owed are cancelled; those still after the new date stay open.
        cancel = Overpayment.objects.select_for_update().filter(
            person=locked, state=Overpayment.State.OPEN, line__period__gt=old_period
        )
        if new_period is not None:
            cancel = cancel.filter(line__period__lte=new_period)
        cancelled = list(cancel.values_list("pk", "line_id", "amount"))
        Overpayment.objects.filter(
            pk__in=[pk for pk, _, _ in cancelled], state=Overpayment.State.OPEN
        ).update(
            state=Overpayment.State.CANCELLED,
            reference=f"死亡登记更正：{reason}"[:100],
            settled_by=actor,
            settled_at=timezone.now(),
        )
        for pk, line_id, amount in cancelled:
            audit_record(
                actor=actor,
                action=actions.OVERPAYMENT_CANCEL,
                object_type="payments.overpayment",
                object_id=pk,
                old={"state": "open"},
                new={"state": "cancelled", "line": line_id, "amount": amount},
                reason=reason,
            )
        out.overpayments_cancelled = len(cancelled)
        settled = Overpayment.objects.filter(
            person=locked,
            state__in=[Overpayment.State.REFUNDED, Overpayment.State.OFFSET],
            line__period__gt=old_period,
        )
        if new_period is not None:
            settled = settled.filter(line__period__lte=new_period)
        out.settled_overpayments = settled.count()

        Person.objects.filter(pk=locked.pk).update(death_date=None)
        audit_record(
            actor=actor,
            action=actions.DEATH_CORRECT,
            obj=locked,
            old={"death_date": old_date, "recorded_by": recorder_id},
            new={
                "death_date": death_date,
                "reactivated": out.reactivated,
                "released": out.released,
                "back_pay_months": out.back_pay_months,
                "overpayments_cancelled": out.overpayments_cancelled,
                "still_held_at_bank": out.still_held_at_bank,
            },
            reason=reason,
        )
        if death_date is not None:
            out.reapplied = _death_apply(
                person=Person(pk=locked.pk), death_date=death_date, actor=actor, source=f"更正：{reason}"[:50]
            )
    person.death_date = death_date
    return out

"""Comparison (比对) of the benefit system with a card-system extract.

Set-based so it stays linear for a million beneficiaries against a million cards:
one INSERT … SELECT joins on the SSN and classifies every beneficiary; then only the rows whose names
differ as stored are read back (by key ranges) to compare the normalised names in Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from shebao.audit.services import audit_record
from shebao.core.errors import StateError, ValidationError
from shebao.core.values.names import normalize_name
from shebao.orgs.selectors import region_ids_under
from shebao.people.models import Person, PersonCategory
from shebao.switching import actions
from shebao.switching.cardsources import CardSource, problem
from shebao.switching.models import (
    CardExtract,
    CardState,
    CardSystemRecord,
    ComparisonClass,
    ComparisonReason,
    ComparisonResult,
    ComparisonRun,
)
from shebao.switching.tabular import FileRejected, Problem

CHUNK = 5000

_YES = {"是", "y", "yes", "true", "1", "已激活", "激活", "已开通", "开通", "√"}
_NO = {"否", "n", "no", "false", "0", "未激活", "未开通", ""}
_STATES = {
    "": CardState.NORMAL,
    "正常": CardState.NORMAL,
    "1": CardState.NORMAL,
    "封存": CardState.SEALED,
    "0": CardState.SEALED,
    "正式挂失": CardState.LOST_FORMAL,
    "挂失": CardState.LOST_FORMAL,
    "2": CardState.LOST_FORMAL,
    "应用锁定": CardState.LOCKED,
    "锁定": CardState.LOCKED,
    "3": CardState.LOCKED,
    "临时挂失": CardState.LOST_TEMPORARY,
    "4": CardState.LOST_TEMPORARY,
    "注销": CardState.CANCELLED,
}


def _parse_date(text: str) -> dt.date:
    clean = text.strip().replace("/", "-").replace(".", "-")
    if len(clean) == 8 and clean.isdigit():
        clean = f"{clean[:4]}-{clean[4:6]}-{clean[6:]}"
    clean = clean.split(" ")[0]
    return dt.date.fromisoformat(clean)


def _clean_card_row(row_no: int, raw: dict[str, str], problems: list[Problem]) -> CardSystemRecord | None:
    from shebao.core.values.bank import parse_bank_account
    from shebao.core.values.ssn import parse_ssn

    before = len(problems)
    ssn = ""
    try:
        ssn = parse_ssn(raw.get("ssn", "")).value
    except ValidationError as exc:
        problems.append(problem(row_no, "ssn", exc.message))
    name = raw.get("name", "").strip()
    if not name:
        problems.append(problem(row_no, "name", "姓名不能为空"))
    card_no = raw.get("card_no", "").strip().upper()
    account = raw.get("bank_account", "").strip()
    if account:
        try:
            account = parse_bank_account(account).value
        except ValidationError as exc:
            problems.append(problem(row_no, "bank_account", exc.message))
    state_text = raw.get("card_state", "").strip()
    state = _STATES.get(state_text)
    if state is None:
        problems.append(problem(row_no, "card_state", f"无法识别的卡状态“{state_text}”"))
    activated_text = raw.get("fin_activated", "").strip().lower()
    if activated_text not in _YES | _NO:
        problems.append(problem(row_no, "fin_activated", f"应填“是”或“否”，而不是“{activated_text}”"))
    activated_on = None
    if raw.get("fin_activated_on", "").strip():
        try:
            activated_on = _parse_date(raw["fin_activated_on"])
        except ValueError:
            problems.append(problem(row_no, "fin_activated_on", "日期格式应为 YYYY-MM-DD"))
    if len(problems) > before:
        return None
    return CardSystemRecord(
        ssn=ssn,
        name=name[:50],
        card_no=card_no[:20],
        bank_code=raw.get("bank_code", "").strip()[:16],
        bank_account=account,
        card_state=state or CardState.NORMAL,
        fin_activated=activated_text in _YES,
        fin_activated_on=activated_on,
        row_no=row_no,
    )


def card_extract_import(*, source: CardSource, actor: Any) -> CardExtract:
    """Import a card-system extract: every row is checked first; one bad cell refuses the whole file.

    The same file imported again returns the extract already there and changes nothing.
    """
    checksum = source.checksum()
    existing = CardExtract.objects.filter(checksum=checksum).first()
    if existing is not None:
        return existing
    problems: list[Problem] = []
    total_problems = 0
    count = 0
    for row_no, raw in source.raw_rows():
        found: list[Problem] = []
        _clean_card_row(row_no, raw, found)
        total_problems += len(found)
        if len(problems) < 200:
            problems.extend(found)
        count += 1
    if problems:
        raise FileRejected(problems, total=total_problems)
    if count == 0:
        raise ValidationError("文件中没有卡系统记录")
    with transaction.atomic():
        extract = CardExtract.objects.create(
            source=source.description[:255],
            checksum=checksum,
            row_count=count,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        batch: list[CardSystemRecord] = []
        for row_no, raw in source.raw_rows():
            record = _clean_card_row(row_no, raw, [])
            assert record is not None  # validated above; the file did not change in between (same checksum)
            record.extract = extract
            batch.append(record)
            if len(batch) >= CHUNK:
                CardSystemRecord.objects.bulk_create(batch)
                batch = []
        if batch:
            CardSystemRecord.objects.bulk_create(batch)
        audit_record(
            actor=actor,
            action=actions.CARD_EXTRACT_IMPORT,
            obj=extract,
            new={"rows": count, "checksum": checksum},
        )
    return extract


def comparison_create(
    *, region: Any, source_description: str, actor: Any, extract: CardExtract | None = None
) -> ComparisonRun:
    with transaction.atomic():
        run = ComparisonRun.objects.create(
            region=region,
            extract=extract,
            source_description=source_description[:255],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor, action=actions.COMPARISON_CREATE, obj=run, new={"source": source_description}
        )
    return run


def comparison_attach_extract(*, run: ComparisonRun, extract: CardExtract) -> None:
    ComparisonRun.objects.filter(pk=run.pk, extract__isnull=True).update(extract=extract)
    run.refresh_from_db(fields=["extract"])


# One pass: the extract grouped by SSN (a hash aggregate), joined to the persons; every CASE reads the
# derived columns once.
_INSERT_SQL = """
INSERT INTO {result} (run_id, person_id, klass, reason, card_record_id, name_in_benefit, name_in_card)
SELECT %s, x.pid,
  CASE WHEN x.cid IS NULL OR x.n > 1 THEN '{not_matched}'
       WHEN x.card_no = '' THEN '{no_card}'
       WHEN x.fin_activated AND x.card_state = '{normal}' THEN '{activated}'
       ELSE '{not_activated}' END,
  CASE WHEN x.cid IS NULL THEN '{r_unknown}'
       WHEN x.n > 1 THEN '{r_several}'
       WHEN x.card_no = '' THEN ''
       WHEN x.card_state <> '{normal}' THEN '{r_unusable}'
       WHEN NOT x.fin_activated THEN '{r_not_activated}'
       ELSE '' END,
  CASE WHEN x.n = 1 THEN x.cid END,
  x.pname,
  CASE WHEN x.n = 1 THEN x.cname ELSE '' END
FROM (
  SELECT p.id AS pid, p.name AS pname, c.id AS cid, c.name AS cname, c.card_no, c.card_state, c.fin_activated, m.n
  FROM {person} p
  LEFT JOIN (
    SELECT ssn, COUNT(*) AS n, MIN(id) AS first_id FROM {record} WHERE extract_id = %s GROUP BY ssn
  ) m ON m.ssn = p.ssn
  LEFT JOIN {record} c ON c.id = m.first_id
  WHERE p.death_date IS NULL
    AND p.region_id IN ({regions})
    AND EXISTS (SELECT 1 FROM {category} pc WHERE pc.person_id = p.id)
) x
"""


def _insert_sql(region_count: int) -> str:
    return _INSERT_SQL.format(
        result=ComparisonResult._meta.db_table,
        person=Person._meta.db_table,
        record=CardSystemRecord._meta.db_table,
        category=PersonCategory._meta.db_table,
        regions=", ".join(["%s"] * region_count),
        not_matched=ComparisonClass.NOT_MATCHED,
        no_card=ComparisonClass.MATCHED_NO_CARD,
        activated=ComparisonClass.MATCHED_ACTIVATED,
        not_activated=ComparisonClass.MATCHED_NOT_ACTIVATED,
        normal=CardState.NORMAL,
        r_unknown=ComparisonReason.SSN_UNKNOWN,
        r_several=ComparisonReason.SEVERAL_CANDIDATES,
        r_unusable=ComparisonReason.CARD_NOT_USABLE,
        r_not_activated=ComparisonReason.NOT_ACTIVATED,
    )


def _settle_names(run: ComparisonRun) -> None:
    """Rows whose names differ as stored: equal after normalising → matched (noted); else not matched."""
    last_id = 0
    base = ComparisonResult.objects.filter(run=run, card_record__isnull=False)
    while True:
        chunk = list(
            base.filter(pk__gt=last_id)
            .exclude(name_in_card=F("name_in_benefit"))
            .order_by("pk")
            .values_list("pk", "name_in_benefit", "name_in_card", "reason")[:CHUNK]
        )
        if not chunk:
            return
        last_id = chunk[-1][0]
        differ = [pk for pk, a, b, _ in chunk if normalize_name(a) != normalize_name(b)]
        normalised = [
            pk for pk, a, b, reason in chunk if not reason and normalize_name(a) == normalize_name(b)
        ]
        if differ:
            ComparisonResult.objects.filter(pk__in=differ).update(
                klass=ComparisonClass.NOT_MATCHED, reason=ComparisonReason.NAME_DIFFERS
            )
        if normalised:
            ComparisonResult.objects.filter(pk__in=normalised).update(reason=ComparisonReason.NAME_NORMALISED)


def comparison_execute(*, run: ComparisonRun, actor: Any) -> ComparisonRun:
    """(Re)compute a run: its previous results are replaced; every beneficiary lands in exactly one class.

    Beneficiaries are the living persons of the run's region (and the regions below it) with a benefit category.
    """
    if run.extract_id is None:
        raise StateError("该比对尚未导入卡系统数据")
    regions = region_ids_under(run.region_id)
    with transaction.atomic():
        locked = ComparisonRun.objects.select_for_update().get(pk=run.pk)
        ComparisonResult.objects.filter(run=locked).delete()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # JIT compiling this one big statement costs more than it saves (seen in EXPLAIN ANALYZE).
                cursor.execute("SET LOCAL jit = off")
            extract_id = locked.extract_id
            cursor.execute(_insert_sql(len(regions)), [locked.pk, extract_id, *regions])
        _settle_names(locked)
        counts = {k: 0 for k in ComparisonClass.values}
        counts.update(
            dict(
                ComparisonResult.objects.filter(run=locked)
                .values("klass")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("klass", "n")
            )
        )
        old = {"state": locked.state, "counts": locked.counts}
        locked.counts = counts
        locked.state = ComparisonRun.State.DONE
        locked.message = ""
        locked.finished_at = timezone.now()
        locked.save(update_fields=["counts", "state", "message", "finished_at"])
        audit_record(actor=actor, action=actions.COMPARISON_RUN, obj=locked, old=old, new={"counts": counts})
    run.refresh_from_db()
    return run


def comparison_fail(*, run: ComparisonRun, message: str) -> None:
    ComparisonRun.objects.filter(pk=run.pk).update(state=ComparisonRun.State.FAILED, message=message[:500])

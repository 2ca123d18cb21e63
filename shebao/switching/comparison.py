"""Comparison (比对) of the benefit system with a card-system extract (a file, or shebao's own cards).

Set-based so it stays linear for a million beneficiaries against a million cards: at import, records
sharing an SSN are counted and the first marked (`mark_candidates`); the comparison is then one
INSERT … SELECT joining every beneficiary on the SSN to that first record and classing it with CASEs.
Names that differ as stored are compared normalised in Python: on SQLite by a Python function called from
those CASEs; on PostgreSQL the run is loaded into a fresh unindexed table, the rows whose names differ are
read back, settled by ctid, and the table is indexed once and attached as the run's partition in place of
the previous one. Figures: bench/README.md, section switching.
"""

from __future__ import annotations

import datetime as dt
import re
from array import array
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from shebao.audit.services import audit_record
from shebao.core.errors import StateError, ValidationError
from shebao.core.values.names import TRADITIONAL_TO_SIMPLIFIED, normalize_name
from shebao.orgs.selectors import region_ids_under
from shebao.people.models import Person
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

    The same file imported again returns the extract already there and changes nothing. A source with typed
    `records()` (shebao's own cards) is written as it comes: its rows were validated when they were stored.
    """
    checksum = source.checksum()
    existing = CardExtract.objects.filter(checksum=checksum).first()
    if existing is not None:
        return existing
    typed = getattr(source, "records", None)
    if typed is None:
        _check_rows(source)
    with transaction.atomic():
        extract = CardExtract.objects.create(
            source=source.description[:255],
            checksum=checksum,
            row_count=0,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        count = 0
        batch: list[CardSystemRecord] = []
        for record in _typed_records(typed()) if typed is not None else _parsed_records(source):
            record.extract = extract
            batch.append(record)
            if len(batch) >= CHUNK:
                CardSystemRecord.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        if batch:
            CardSystemRecord.objects.bulk_create(batch)
            count += len(batch)
        if count == 0:
            raise ValidationError("文件中没有卡系统记录" if typed is None else "本系统中尚无社保卡记录")
        mark_candidates(extract.pk)
        if connection.vendor == "postgresql":
            # Fresh statistics for the comparison's plan: autovacuum may not have seen a file loaded seconds ago.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {CardSystemRecord._meta.db_table}")
        extract.row_count = count
        extract.save(update_fields=["row_count"])
        audit_record(
            actor=actor,
            action=actions.CARD_EXTRACT_IMPORT,
            obj=extract,
            new={"rows": count, "checksum": checksum, "source": source.description},
        )
    return extract


def _check_rows(source: CardSource) -> None:
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


def _parsed_records(source: CardSource) -> Iterator[CardSystemRecord]:
    for row_no, raw in source.raw_rows():
        record = _clean_card_row(row_no, raw, [])
        assert record is not None  # validated above; the file did not change in between (same checksum)
        yield record


def _typed_records(rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[CardSystemRecord]:
    for row_no, fields in rows:
        yield CardSystemRecord(row_no=row_no, **fields)


def comparison_create(
    *,
    region: Any,
    source_description: str,
    actor: Any,
    extract: CardExtract | None = None,
    source_kind: str = ComparisonRun.Source.FILE,
) -> ComparisonRun:
    with transaction.atomic():
        run = ComparisonRun.objects.create(
            region=region,
            extract=extract,
            source_kind=source_kind,
            source_description=source_description[:255],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        audit_record(
            actor=actor, action=actions.COMPARISON_CREATE, obj=run, new={"source": source_description}
        )
    return run


def comparison_attach_extract(*, run: ComparisonRun, extract: CardExtract, replace: bool = False) -> None:
    """A file run keeps the extract it was given; a run on shebao's own cards takes each new snapshot."""
    runs = ComparisonRun.objects.filter(pk=run.pk)
    (runs if replace else runs.filter(extract__isnull=True)).update(extract=extract)
    run.refresh_from_db(fields=["extract"])


# Several records with one SSN: counted and the first marked at import, in the database.
MARK_CANDIDATES_SQL = """
UPDATE {record} SET
  candidates = (SELECT COUNT(*) FROM {record} r2 WHERE r2.extract_id = {record}.extract_id AND r2.ssn = {record}.ssn),
  is_first = ({record}.id = (
    SELECT MIN(r3.id) FROM {record} r3 WHERE r3.extract_id = {record}.extract_id AND r3.ssn = {record}.ssn))
WHERE extract_id = %s AND ssn IN (
  SELECT ssn FROM {record} r4 WHERE r4.extract_id = %s GROUP BY ssn HAVING COUNT(*) > 1)
"""


def mark_candidates(extract_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            MARK_CANDIDATES_SQL.format(record=CardSystemRecord._meta.db_table), [extract_id, extract_id]
        )


# One pass, the shape of a bare join: every beneficiary joined on the SSN (the (extract, ssn) index) to the
# first record carrying it; the CASEs read that one row. On SQLite the name check is in the same CASEs: a
# record whose name differs as stored (candidates = 1) asks the Python function NAMES_EQUAL_FUNCTION, so no
# row is read back or updated afterwards; on PostgreSQL (where a Python function cannot be called) the
# {names_*} parts are empty: every name that differs as stored is first taken as the same name written
# differently (name_normalised), and _NameCheck moves the ones that really differ after the insert.
_INSERT_SQL = """
INSERT INTO {result} (run_id, person_id, klass, reason, card_record_id, name_in_benefit, name_in_card)
SELECT %s, p.id,
  CASE WHEN c.id IS NULL OR c.candidates > 1 THEN {not_matched}{names_klass}
       WHEN c.card_no = '' THEN {no_card}
       WHEN c.fin_activated AND c.card_state = '{normal}' THEN '{activated}'
       ELSE {not_activated} END,
  CASE WHEN c.id IS NULL THEN '{r_unknown}'
       WHEN c.candidates > 1 THEN '{r_several}'{names_reason}
       WHEN c.card_no = '' THEN {blank_reason}
       WHEN c.card_state <> '{normal}' THEN '{r_unusable}'
       WHEN NOT c.fin_activated THEN '{r_not_activated}'
       ELSE {blank_reason} END,
  CASE WHEN c.candidates = 1 THEN c.id END,
  p.name,
  CASE WHEN c.candidates = 1 THEN c.name ELSE '' END
FROM {person} p
LEFT JOIN {record} c ON c.extract_id = %s AND c.ssn = p.ssn AND c.is_first
WHERE p.is_beneficiary
  AND p.death_date IS NULL
  AND p.region_id IN ({regions})
"""


NAMES_EQUAL_FUNCTION = "shebao_names_equal"
_NAMES_DIFFER = f"c.name <> p.name AND NOT {NAMES_EQUAL_FUNCTION}(p.name, c.name)"
# SQLite: the classes other than matched_activated (about one row in seven) are counted as the INSERT writes
# them, by a Python function that returns its argument; matched_activated is the rest of the rows inserted. It is
# registered as not deterministic, so SQLite calls it for every row instead of once for the statement. This
# replaced a scan of the fresh rows for the counts (0.024 s per 100,000, a quarter of the bare join).
TALLY_FUNCTION = "shebao_tally"


def _insert_sql(region_count: int, table: str, *, check_names: bool, tally: bool = False) -> str:
    def klass(value: str) -> str:
        return f"{TALLY_FUNCTION}('{value}')" if tally else f"'{value}'"

    return _INSERT_SQL.format(
        names_klass=f"\n       WHEN {_NAMES_DIFFER} THEN {klass(ComparisonClass.NOT_MATCHED)}"
        if check_names
        else "",
        names_reason=f"\n       WHEN {_NAMES_DIFFER} THEN '{ComparisonReason.NAME_DIFFERS}'"
        if check_names
        else "",
        blank_reason=f"CASE WHEN c.name <> p.name THEN '{ComparisonReason.NAME_NORMALISED}' ELSE '' END",
        result=table,
        person=Person._meta.db_table,
        record=CardSystemRecord._meta.db_table,
        regions=", ".join(["%s"] * region_count),
        not_matched=klass(ComparisonClass.NOT_MATCHED),
        no_card=klass(ComparisonClass.MATCHED_NO_CARD),
        activated=ComparisonClass.MATCHED_ACTIVATED,
        not_activated=klass(ComparisonClass.MATCHED_NOT_ACTIVATED),
        normal=CardState.NORMAL,
        r_unknown=ComparisonReason.SSN_UNKNOWN,
        r_several=ComparisonReason.SEVERAL_CANDIDATES,
        r_unusable=ComparisonReason.CARD_NOT_USABLE,
        r_not_activated=ComparisonReason.NOT_ACTIVATED,
    )


_DIFFER = "card_record_id IS NOT NULL AND name_in_card <> name_in_benefit"

# PostgreSQL: the result table is partitioned by run (migration 0005). A run's rows are written into a fresh
# standalone table with no index, checked and counted there, indexed once in one sorted build, and attached as
# the run's partition in place of its previous one. Building the index after the load instead of row by row
# during it was the largest single cost left (bench/README.md). Everything is logged and in the one transaction:
# a crash loses nothing and leaves the previous result in place.
#
# The name check addresses the fresh table's rows by their physical place (ctid, packed into one bigint so
# that the Python side keeps 8 bytes a row): nothing else can see or change that table before the commit,
# and a TID scan reaches each row without the seq scan a join on the person needs (4 vs 13 ms per 100,000).
_DIFFER_PG_SQL = """
SELECT ((ctid::text::point)[0]::bigint << 16) + (ctid::text::point)[1]::bigint, name_in_benefit, name_in_card
FROM {table} WHERE {differ}
"""
_SETTLE_PG_SQL = """
UPDATE {table} SET {assignments}
WHERE ctid = ANY(ARRAY(SELECT format('(%%s,%%s)', k >> 16, k & 65535)::tid FROM unnest(%s::bigint[]) AS k))
"""
DEFAULT_PARTITION = "default"
# For this transaction only (the bench gives its bare join the same): JIT compiling this one big statement costs
# more than it saves (seen in EXPLAIN ANALYZE); with the default 4 MB the beneficiaries' hash table spills to disk
# in batches from about 100,000 rows, and this one statement of a batch job may take more (EXPLAIN ANALYZE: 0.38
# → 0.33 s per 100,000).
PG_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")
# As the parent's (migration 0005): ATTACH wants the same types and NOT NULLs.
_RESULT_COLUMNS_PG = (
    "klass varchar(24) NOT NULL, reason varchar(24) NOT NULL, name_in_benefit varchar(50) NOT NULL,"
    " name_in_card varchar(50) NOT NULL, card_record_id bigint NULL, person_id bigint NOT NULL,"
    " run_id bigint NOT NULL"
)


def result_partition(run_id: int) -> str:
    """The name of a run's partition of the result table (PostgreSQL)."""
    return f"{_result_table()}_{int(run_id)}"


def _result_table() -> str:
    return ComparisonResult._meta.db_table


# A name of CJK unified ideographs (U+4E00-U+9FFF: nearly every name) and spaces (U+0020, U+3000) has no NFKC
# decomposition but U+3000's to a space, no dot and no letter: normalize_name only drops its spaces and maps its
# traditional characters, and the result is again such a name, so that one translation is its fixed point
# (tests/switching/test_comparison.py checks every character of the class). 0.8 µs a name instead of 6.6: the
# name check of 100,000 rows took 0.035 s, a quarter of the bare join on PostgreSQL.
_PLAIN_NAME = re.compile("[\u4e00-\u9fff \u3000]+")
_PLAIN_TABLE: dict[int, str | None] = {**TRADITIONAL_TO_SIMPLIFIED, ord(" "): None, 0x3000: None}


def _normal(name: str, cache: dict[str, str]) -> str:
    found = cache.get(name)
    if found is None:
        if len(cache) > 100_000:
            cache.clear()
        if _PLAIN_NAME.fullmatch(name):
            found = cache[name] = name.translate(_PLAIN_TABLE)
        else:
            found = cache[name] = normalize_name(name)
    return found


class _NameCheck:
    """PostgreSQL: rows whose names differ as stored were written as matched (name_normalised where nothing
    else was to say); those whose names differ after normalising too are moved to not matched (name_differs).

    Only the keys of the rows to change are kept: the packed ctid, 8 bytes each. Rows whose names are the same
    once normalised are not written again (until this round every one of them was updated for its reason:
    0.008 s per 100,000).
    """

    def __init__(self) -> None:
        self.cache: dict[str, str] = {}
        self.differ: array[int] = array("q")

    def check(self, key: int, in_benefit: str, in_card: str) -> None:
        if _normal(in_benefit, self.cache) != _normal(in_card, self.cache):
            self.differ.append(key)

    def apply(self, table: str) -> None:
        """The rows are the fresh table's, by packed ctid (see _DIFFER_PG_SQL)."""
        if self.differ:
            assignments = f"klass = '{ComparisonClass.NOT_MATCHED}', reason = '{ComparisonReason.NAME_DIFFERS}'"
            with connection.cursor() as cursor:
                cursor.execute(_SETTLE_PG_SQL.format(table=table, assignments=assignments), [list(self.differ)])


def _execute_postgresql(run: ComparisonRun, params: list[Any], regions: int) -> dict[str, int]:
    parent, partition = _result_table(), result_partition(run.pk)
    fresh = f"{partition}_new"
    names = _NameCheck()
    with connection.cursor() as cursor:
        for setting in PG_SETTINGS:
            cursor.execute(setting)
        # The columns are spelled out rather than copied with LIKE, which would lock the parent table for the
        # whole transaction; the CHECK proves the partition bound, so ATTACH does not scan the table again.
        cursor.execute(f'CREATE TABLE "{fresh}" ({_RESULT_COLUMNS_PG}, CHECK (run_id = {int(run.pk)}))')
        cursor.execute(_insert_sql(regions, f'"{fresh}"', check_names=False), params)
        cursor.execute(_DIFFER_PG_SQL.format(table=f'"{fresh}"', differ=_DIFFER))
        while chunk := cursor.fetchmany(CHUNK):
            for row in chunk:
                names.check(*row)
    names.apply(f'"{fresh}"')
    counts = {k: 0 for k in ComparisonClass.values}
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT klass, COUNT(*) FROM "{fresh}" GROUP BY klass')
        counts.update(dict(cursor.fetchall()))
        # One unique index per partition on the person: the run is the partition's one value, so this is the
        # (run, person) key of the model.
        cursor.execute(f'CREATE UNIQUE INDEX "{fresh}_person" ON "{fresh}" (person_id)')
        # The swap. The strongest lock it needs is taken first and nothing locked the parent before: two runs
        # swapping at once queue here instead of deadlocking on lock upgrades (DROP, the default partition,
        # ATTACH). From here to the commit, readers of the result table wait.
        cursor.execute(f'LOCK TABLE "{parent}" IN ACCESS EXCLUSIVE MODE')
        cursor.execute(f'DROP TABLE IF EXISTS "{partition}"')
        cursor.execute(f'DELETE FROM "{parent}_{DEFAULT_PARTITION}" WHERE run_id = %s', [run.pk])
        cursor.execute(f'ALTER TABLE "{fresh}" RENAME TO "{partition}"')
        cursor.execute(f'ALTER INDEX "{fresh}_person" RENAME TO "{partition}_person"')
        cursor.execute(f'ALTER TABLE "{parent}" ATTACH PARTITION "{partition}" FOR VALUES IN ({int(run.pk)})')
    return counts


def _execute_sqlite(run: ComparisonRun, params: list[Any], regions: int) -> dict[str, int]:
    table = _result_table()
    cache: dict[str, str] = {}

    def names_equal(in_benefit: str, in_card: str) -> bool:
        return _normal(in_benefit, cache) == _normal(in_card, cache)

    counts = {k: 0 for k in ComparisonClass.values}

    def tally(klass: str) -> str:
        counts[klass] += 1
        return klass

    connection.ensure_connection()
    connection.connection.create_function(NAMES_EQUAL_FUNCTION, 2, names_equal, deterministic=True)
    connection.connection.create_function(TALLY_FUNCTION, 1, tally, deterministic=False)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(regions, table, check_names=True, tally=True), params)
        inserted = cursor.rowcount
    counts[ComparisonClass.MATCHED_ACTIVATED] = inserted - sum(counts.values())
    return counts


def comparison_execute(*, run: ComparisonRun, actor: Any) -> ComparisonRun:
    """(Re)compute a run: its previous results are replaced; every beneficiary lands in exactly one class.

    Beneficiaries are the living persons of the run's region (and the regions below it) with a benefit category.
    """
    if run.extract_id is None:
        raise StateError("该比对尚未导入卡系统数据")
    regions = region_ids_under(run.region_id)
    with transaction.atomic():
        locked = ComparisonRun.objects.select_for_update().get(pk=run.pk)
        params = [locked.pk, locked.extract_id, *regions]
        if connection.vendor == "postgresql":
            counts = _execute_postgresql(locked, params, len(regions))
        else:
            ComparisonResult.objects.filter(run=locked).delete()
            counts = _execute_sqlite(locked, params, len(regions))
        old = {"state": locked.state, "counts": locked.counts}
        locked.counts = counts
        locked.state = ComparisonRun.State.DONE
        locked.message = ""
        locked.finished_at = timezone.now()
        locked.save(update_fields=["counts", "state", "message", "finished_at"])
        audit_record(actor=actor, action=actions.COMPARISON_RUN, obj=locked, old=old, new={"counts": counts})
    run.refresh_from_db()
    return run


def comparison_from_own_cards(*, run: ComparisonRun, actor: Any) -> ComparisonRun:
    """Snapshot shebao's card records of the run's region (unchanged cards reuse their extract), then compare."""
    from shebao.switching.cardsources import OwnCardSource

    extract = card_extract_import(source=OwnCardSource(run.region), actor=actor)
    comparison_attach_extract(run=run, extract=extract, replace=True)
    return comparison_execute(run=run, actor=actor)


def comparison_fail(*, run: ComparisonRun, message: str) -> None:
    ComparisonRun.objects.filter(pk=run.pk).update(state=ComparisonRun.State.FAILED, message=message[:500])

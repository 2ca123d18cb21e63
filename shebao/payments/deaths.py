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

from shebao.core.errors import PermissionDenied, ValidationError
from shebao.core.values.names import normalize_name
from shebao.core.values.ssn import parse_ssn
from shebao.people.importers import (
    CellError,
    ImportRejected,
    Problem,
    cell_text,
    clean_identifier_cell,
    file_sha256,
    parse_day,
    read_rows,
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
    header: dict[str, int] | None = None
    count = 0
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

"""Benchmarks of the switching app.

`shebao bench forms --units U --persons N`: generating and writing the 核实反馈表 of U units covering N people,
against writing the same rows with xlsxwriter alone (no formats, protection or validation).

`shebao bench comparison --persons N`: the comparison against a bare SQL join of the same tables.

The parent picks a scratch database (a SQLite file under var/bench/, or a dedicated schema on PostgreSQL)
and runs the measurement in a child process so that ru_maxrss is the comparison's own peak. The child:

1. migrates the scratch database, adds a region and a unit;
2. inserts N beneficiaries (with a category) and N card records for them with plain executemany; about 1%
   of the card names are written differently (middle-dot variants, traditional characters) and 0.5% really
   differ, so the Python name check has work;
3. times `comparison_execute` (INSERT … SELECT + the name check + the counts) R times (--repeat, default 3),
   each a new run, and reads ru_maxrss;
4. times the bare limit before and after each: the same LEFT JOIN on the SSN materialised into a table, in one
   statement, on PostgreSQL with the same session settings as ours (comparison.PG_SETTINGS).
The medians are reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError

from shebao.core.bench import Options, register_bench

PG_SCHEMA = "bench_comparison"
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏飞建国文辉林峰志海波宇浩凯云淑珍凤琴玲燕春"
)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--persons", type=int, default=100_000, help="待遇人员和卡记录各 N 条 (100000)")
    parser.add_argument("--repeat", type=int, default=3, help="比对次数，报告中位数 runs, medians reported (3)")
    parser.add_argument("--keep", action="store_true", help="保留测试库 keep the scratch database")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=("populate", "measure"), default="", help=argparse.SUPPRESS)


@register_bench(
    "comparison",
    help="比对：N 名待遇人员对 N 条卡记录，与同表裸SQL连接比较耗时 compare N beneficiaries with N cards",
    arguments=_arguments,
)
def bench_comparison(options: Options) -> None:
    if options["persons"] < 1 or options["repeat"] < 1:
        raise CommandError("--persons 和 --repeat 至少为 1")
    if options.get("worker"):
        _worker(options["persons"], options.get("phase") or "", options["repeat"])
    else:
        # populating a million rows costs more memory than comparing them: two children, so that the
        # measuring child's ru_maxrss is the comparison's own peak
        _parent(options, extra=["--repeat", str(options["repeat"])], phases=["populate", "measure"])


def _bench_dir() -> Path:
    path = Path(settings.DATA_DIR) / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _parent(
    options: Options,
    name: str = "comparison",
    extra: list[str] | None = None,
    phases: list[str] | None = None,
) -> None:
    from django.db import connection

    is_pg = connection.vendor == "postgresql"
    sqlite_file = _bench_dir() / f"{name}.sqlite3"
    if is_pg:
        url = os.environ.get("DATABASE_URL", "")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {PG_SCHEMA}")
        child_url = f"{url}{'&' if '?' in url else '?'}options={quote(f'-c search_path={PG_SCHEMA}')}"
    else:
        _remove_sqlite(sqlite_file)
        child_url = f"sqlite:///{sqlite_file}"
    command = [sys.executable, "-m", "shebao.manage", "bench", name, "--worker"]
    command += ["--persons", str(options["persons"]), *(extra or [])]
    code = 0
    try:
        for phase in phases or [""]:
            code = subprocess.call(
                command + (["--phase", phase] if phase else []), env={**os.environ, "DATABASE_URL": child_url}
            )
            if code != 0:
                break
    finally:
        if not options.get("keep"):
            if is_pg:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            else:
                _remove_sqlite(sqlite_file)
    if code != 0:
        raise CommandError(f"基准测试子进程失败（退出码 {code}）")


def _name(i: int) -> str:
    x = (i * 2654435761 + 12345) % 4294967296
    return _SURNAMES[x % len(_SURNAMES)] + _GIVEN[(x >> 8) % len(_GIVEN)] + _GIVEN[(x >> 17) % len(_GIVEN)]


def _card_name(i: int, name: str) -> str:
    if i % 200 == 7:
        return name[:-1] + ("甲" if name[-1] != "甲" else "乙")  # really differs
    if i % 100 == 3:
        return name[0] + " " + name[1:]  # a space: equal after normalising
    if i % 100 == 5:
        return name.replace("陈", "陳").replace("张", "張") + "\u3000"
    return name


def _populate(n: int) -> tuple[Any, int, float]:
    from django.db import connection, transaction
    from django.utils import timezone

    from shebao.core.values.ssn import DEMO_REGION_CODE, make_ssn
    from shebao.orgs.models import Employer, Region
    from shebao.people.models import Person, PersonCategory
    from shebao.switching.comparison import mark_candidates
    from shebao.switching.models import CardExtract, CardSystemRecord

    region = Region.objects.create(code=DEMO_REGION_CODE, name="基准县", level=Region.Level.COUNTY)
    unit = Employer.objects.create(region=region, code="BENCH01", name="基准单位")
    extract = CardExtract.objects.create(source="bench", checksum="0" * 64, row_count=n)
    now: Any = connection.ops.adapt_datetimefield_value(timezone.now())
    first = dt.date(1940, 1, 1)
    as_date = connection.vendor == "postgresql"

    def ssn(i: int) -> str:
        return make_ssn(DEMO_REGION_CODE, first + dt.timedelta(days=i % 20_000), i // 20_000)

    def birth(i: int) -> Any:
        day = first + dt.timedelta(days=i % 20_000)
        return day if as_date else day.isoformat()

    person_sql = (
        f"INSERT INTO {Person._meta.db_table} (ssn, name, name_initials, sex, birth_date, ethnicity, phone, address,"
        " lives_in_region, region_id, employer_id, created_at, updated_at, is_beneficiary)"
        " VALUES (%s, %s, '', '1', %s, '', '', '', %s, %s, %s, %s, %s, %s)"
    )
    record_sql = (
        f"INSERT INTO {CardSystemRecord._meta.db_table} (extract_id, ssn, name, card_no, bank_code, bank_account,"
        " card_state, fin_activated, fin_activated_on, row_no, candidates, is_first)"
        " VALUES (%s, %s, %s, %s, '', %s, 'normal', %s, NULL, %s, 1, %s)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # every one gets a category below: flagged as the import flags them, at insert
        persons: Any = ((ssn(i), _name(i), birth(i), True, region.pk, unit.pk, now, now, True) for i in range(n))
        cursor.executemany(person_sql, persons)
        cursor.execute(
            f"INSERT INTO {PersonCategory._meta.db_table} (person_id, category)"
            f" SELECT id, 'enterprise_retiree' FROM {Person._meta.db_table}"
        )
        records: Any = (
            (
                extract.pk,
                ssn(i),
                _card_name(i, _name(i)),
                "" if i % 50 == 1 else f"A{i:08d}",
                f"6228{i:015d}",
                i % 10 != 2,
                i + 2,
                True,
            )
            for i in range(n)
            if i % 97 != 11  # about 1% unknown to the card system
        )
        cursor.executemany(record_sql, records)
        # 0.1% of the SSNs twice in the card system (several candidates)
        table = CardSystemRecord._meta.db_table
        cursor.execute(
            f"INSERT INTO {table} (extract_id, ssn, name, card_no, bank_code, bank_account, card_state,"
            " fin_activated, fin_activated_on, row_no, candidates, is_first)"
            f" SELECT extract_id, ssn, name, 'D' || card_no, bank_code, bank_account, card_state, fin_activated,"
            f" fin_activated_on, row_no + %s, 1, %s FROM {table} WHERE row_no %% 1000 = 15",
            [n + 10, True],
        )
        # the import's own step: records sharing an SSN counted and the first marked
        started = time.perf_counter()
        mark_candidates(extract.pk)
        mark_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return region, extract.pk, mark_s


def _worker(n: int, phase: str, repeat: int = 1) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from shebao.orgs.models import Region
    from shebao.people.models import Person
    from shebao.switching.comparison import (
        PG_SETTINGS,
        comparison_create,
        comparison_execute,
        result_partition,
    )
    from shebao.switching.models import CardExtract, CardSystemRecord, ComparisonRun

    if phase in ("", "populate"):
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        _region, _extract_id, mark_s = _populate(n)
        populate_s = time.perf_counter() - started
        Path(_bench_dir() / "comparison.populate.json").write_text(
            json.dumps({"populate_s": populate_s, "mark_s": mark_s})
        )
        if phase == "populate":
            return
    setup_file = _bench_dir() / "comparison.populate.json"
    setup = json.loads(setup_file.read_text())
    setup_file.unlink()
    populate_s, mark_s = setup["populate_s"], setup["mark_s"]
    region = Region.objects.get(name="基准县")
    extract_id = CardExtract.objects.get(source="bench").pk

    def bare_join() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        with transaction.atomic(), connection.cursor() as cursor:
            # the same session settings as ours (comparison.PG_SETTINGS), so neither side gets more memory
            for setting in PG_SETTINGS if connection.vendor == "postgresql" else ():
                cursor.execute(setting)
            cursor.execute(
                "CREATE TABLE bench_bare_join AS"
                f" SELECT p.id AS person_id, p.name AS benefit_name, c.id AS record_id, c.name AS card_name"
                f" FROM {Person._meta.db_table} p LEFT JOIN {CardSystemRecord._meta.db_table} c"
                " ON c.ssn = p.ssn AND c.extract_id = %s",
                [extract_id],
            )
        took = time.perf_counter() - started, time.process_time() - cpu
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_bare_join")
        return took

    # Each repeat is a new run (a new partition on PostgreSQL), between two bare joins (their mean: neither side
    # gets the warmer cache); the previous repeat's run is deleted first, outside the timings, so that every
    # repeat finds the same database. The medians are reported: the machine is shared.
    ours_runs: list[tuple[float, float]] = []
    bare_runs: list[tuple[float, float]] = []
    counts: dict[str, int] = {}
    peak_rss_mb = 0.0
    previous: ComparisonRun | None = None
    for _ in range(repeat):
        if previous is not None:
            if connection.vendor == "postgresql":  # its partition, whole, rather than a DELETE of its rows
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP TABLE "{result_partition(previous.pk)}"')
            previous.delete()
        run = comparison_create(
            region=region,
            source_description="bench",
            actor="基准测试",
            extract=CardExtract.objects.get(pk=extract_id),
        )
        before = bare_join()
        started, cpu = time.perf_counter(), time.process_time()
        run = comparison_execute(run=run, actor="基准测试")
        ours_runs.append((time.perf_counter() - started, time.process_time() - cpu))
        peak_rss_mb = max(peak_rss_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        if run.total != n:
            raise CommandError(f"比对人数不符：{run.total}，应为 {n}")
        if counts and run.counts != counts:
            raise CommandError(f"重复比对结果不同：{run.counts} / {counts}")
        counts = run.counts
        after = bare_join()
        bare_runs.append(((before[0] + after[0]) / 2, (before[1] + after[1]) / 2))
        previous = run
    median = statistics.median
    ours, ours_cpu = median(t for t, _ in ours_runs), median(c for _, c in ours_runs)
    bare, bare_cpu = median(t for t, _ in bare_runs), median(c for _, c in bare_runs)

    import sqlite3

    engine = f"SQLite {sqlite3.sqlite_version}" if connection.vendor == "sqlite" else "PostgreSQL"
    figures = {
        "bench": "comparison",
        "persons": n,
        "database": engine,
        "populate_s": round(populate_s, 2),
        "import_mark_s": round(mark_s, 2),
        "repeat": repeat,
        "ours_s": round(ours, 3),
        "bare_s": round(bare, 3),
        "ratio": round(ours / bare, 2),
        "ours_cpu_s": round(ours_cpu, 3),
        "bare_cpu_s": round(bare_cpu, 3),
        "ours_runs_s": [round(t, 3) for t, _ in ours_runs],
        "bare_runs_s": [round(t, 3) for t, _ in bare_runs],
        "peak_rss_mb": round(peak_rss_mb, 1),
        "counts": counts,
        "pg_settings": list(PG_SETTINGS) if connection.vendor == "postgresql" else [],
    }
    out = sys.stdout
    out.write(f"比对基准 comparison: {n:,} 名待遇人员 × {n:,} 条卡记录，{engine}，{repeat} 次取中位数 median of {repeat}\n")
    out.write(f"  （导入时同号标记 import-side mark: {mark_s:.2f} s，不计入）\n")
    if connection.vendor == "postgresql":
        out.write(f"  （两侧同样的会话设置 both sides run with: {'; '.join(PG_SETTINGS)}）\n")
    out.write(f"  本系统比对 ours : {ours:8.3f} s   {' '.join(f'{t:.3f}' for t, _ in ours_runs)}\n")
    out.write(f"  裸SQL连接 bare  : {bare:8.3f} s   {' '.join(f'{t:.3f}' for t, _ in bare_runs)}\n")
    out.write(f"  比值 ratio      : {ours / bare:8.2f} ×\n")
    out.write(f"  进程CPU ours / bare: {ours_cpu:.3f} s / {bare_cpu:.3f} s（SQLite 在本进程内执行）\n")
    out.write(f"  峰值内存 peak RSS: {peak_rss_mb:.1f} MB\n")
    out.write(json.dumps(figures, ensure_ascii=False) + "\n")


def _forms_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--units", type=int, default=5_000, help="参保单位数 (5000)")
    parser.add_argument("--persons", type=int, default=370_000, help="待遇人员数 (370000)")
    parser.add_argument("--keep", action="store_true", help="保留测试库 keep the scratch database")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


@register_bench(
    "forms",
    help="核实反馈表：U 个单位、N 名人员的表生成并写出 xlsx，与 xlsxwriter 直接写同样的行比较",
    arguments=_forms_arguments,
)
def bench_forms(options: Options) -> None:
    if options["persons"] < 1 or options["units"] < 1:
        raise CommandError("--units 和 --persons 至少为 1")
    if options.get("worker"):
        _forms_worker(options["units"], options["persons"])
    else:
        _parent(options, "forms", ["--units", str(options["units"])])


def _forms_worker(units: int, n: int) -> None:
    import tempfile

    import xlsxwriter
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from shebao.accounts.models import User
    from shebao.core.values.period import period_of
    from shebao.core.values.ssn import DEMO_REGION_CODE, make_ssn
    from shebao.orgs.models import Employer, Region
    from shebao.people.models import PaymentAccount, Person, PersonCategory
    from shebao.switching.forms_xlsx import HEADERS, bank_names_by_code, write_form_xlsx
    from shebao.switching.models import VerificationForm, VerificationLine
    from shebao.switching.services import forms_generate

    call_command("migrate", verbosity=0)
    region = Region.objects.create(code=DEMO_REGION_CODE, name="基准县", level=Region.Level.COUNTY)
    Employer.objects.bulk_create(
        [Employer(region=region, code=f"BU{j:05d}", name=f"基准单位{j}") for j in range(units)]
    )
    unit_ids = list(Employer.objects.order_by("pk").values_list("pk", flat=True))
    actor = User.objects.create(username="bench", role="centre_clerk", region=region)
    now: Any = connection.ops.adapt_datetimefield_value(timezone.now())
    first = dt.date(1940, 1, 1)
    as_date = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        persons: Any = (
            (
                make_ssn(DEMO_REGION_CODE, first + dt.timedelta(days=i % 20_000), i // 20_000),
                _name(i),
                (first + dt.timedelta(days=i % 20_000))
                if as_date
                else (first + dt.timedelta(days=i % 20_000)).isoformat(),
                True,
                region.pk,
                unit_ids[i % units],
                now,
                now,
            )
            for i in range(n)
        )
        cursor.executemany(
            f"INSERT INTO {Person._meta.db_table} (ssn, name, name_initials, sex, birth_date, ethnicity, phone, address,"
            " lives_in_region, region_id, employer_id, created_at, updated_at, is_beneficiary)"
            " VALUES (%s, %s, '', '1', %s, '', '', '', %s, %s, %s, %s, %s, TRUE)",
            persons,
        )
        cursor.execute(
            f"INSERT INTO {PersonCategory._meta.db_table} (person_id, category)"
            f" SELECT id, 'enterprise_retiree' FROM {Person._meta.db_table}"
        )
        cursor.execute(
            f"INSERT INTO {PaymentAccount._meta.db_table} (person_id, bank_name, account_no, account_name, kind,"
            " valid_from, source, note, created_at)"
            f" SELECT id, '基准银行', '6217' || substr('000000000000000' || id, -15, 15), name, 'passbook', 201001,"
            f" 'import', '', %s FROM {Person._meta.db_table}",
            [now],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    started = time.perf_counter()
    forms = forms_generate(actor=actor, period=period_of(timezone.localdate()))
    generate_s = time.perf_counter() - started
    if len(forms) != units or VerificationLine.objects.count() != n:
        raise CommandError("生成的核实反馈表与人数不符")

    banks = bank_names_by_code()
    out_dir = Path(tempfile.mkdtemp(prefix="shebao-forms-", dir=_bench_dir()))
    started = time.perf_counter()
    for form in VerificationForm.objects.select_related("employer", "township").order_by("pk").iterator():
        write_form_xlsx(form, out_dir / f"{form.code}.xlsx", card_bank_names=banks, full_ids=False)
    ours = time.perf_counter() - started
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    started = time.perf_counter()
    current = None
    wb = ws = None
    row = 0
    # the same cells ours writes (the seven sent columns, the card's bank, account and the name), as text,
    # without formats, protection, drop-downs or masking
    lines = VerificationLine.objects.order_by("form_id", "row_no").values_list(
        "form_id",
        "row_no",
        "ssn",
        "name",
        "bank_name",
        "account_no",
        "account_name",
        "card_no",
        "card_bank_code",
        "card_account",
    )
    for form_id, *values in lines.iterator(chunk_size=5000):
        if form_id != current:
            if wb is not None:
                wb.close()
            wb = xlsxwriter.Workbook(str(out_dir / f"bare_{form_id}.xlsx"), {"constant_memory": True})
            ws = wb.add_worksheet()
            ws.write_row(0, 0, HEADERS)
            current, row = form_id, 0
        row += 1
        assert ws is not None
        row_no, ssn, name, bank_name, account_no, account_name, card_no, card_bank, card_account = values
        ws.write_row(row, 0, (str(row_no), ssn, name, bank_name, account_no, account_name, card_no))
        ws.write_string(row, 8, banks.get(str(card_bank), ""))
        ws.write_string(row, 9, str(card_account))
        ws.write_string(row, 10, str(name))
    if wb is not None:
        wb.close()
    bare = time.perf_counter() - started
    for path in out_dir.iterdir():
        path.unlink()
    out_dir.rmdir()

    engine = "SQLite" if connection.vendor == "sqlite" else "PostgreSQL"
    figures = {
        "bench": "forms",
        "units": units,
        "persons": n,
        "database": engine,
        "generate_s": round(generate_s, 2),
        "write_ours_s": round(ours, 2),
        "write_bare_s": round(bare, 2),
        "ratio": round(ours / bare, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }
    out = sys.stdout
    out.write(f"核实反馈表基准 forms: {units:,} 个单位，{n:,} 人，{engine}\n")
    out.write(f"  生成（写库）generate : {generate_s:8.2f} s\n")
    out.write(f"  写出xlsx ours        : {ours:8.2f} s\n")
    out.write(f"  xlsxwriter 直写 bare : {bare:8.2f} s\n")
    out.write(f"  比值 ratio           : {ours / bare:8.2f} ×\n")
    out.write(f"  峰值内存 peak RSS    : {peak_rss_mb:.1f} MB\n")
    out.write(json.dumps(figures, ensure_ascii=False) + "\n")

"""`shebao bench payroll --persons N`: a county of N recipients through one monthly payroll.

The parent picks a scratch database (a SQLite file under var/bench/, or a dedicated schema when
DATABASE_URL is PostgreSQL) and runs the measurement in a child process, so that ru_maxrss is the
peak of this run. The child migrates it, loads N persons with one account, one pension entitlement
and one amount each (bare executemany, not timed as a step), then for each step prints our time,
the bare limit on the same database in the same run, their ratio (wall clock and this process's CPU
time) and the peak RSS so far:

- generate:  `payroll_generate` (INSERT … SELECT + pre-flight + audit) vs the bare INSERT … SELECT;
- files:     `payroll_file` (pre-flight, seq, render, hash) vs a bare streaming SELECT written as
             GBK `|` lines; download: rendering every file again and checking its hash, same limit;
- returns:   `return_file_import` of generated return files with a 佛山-like failure mix
             (0.064 %: 挂失, 换卡中, 户名不符) vs bare parsing and the faster of an executemany UPDATE
             by (file, seq) and COPY/INSERT into a temporary table with one UPDATE … FROM;
- reconcile: `payroll_reconcile` vs one bare GROUP BY.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError

from shebao.core.bench import Options, register_bench

PG_SCHEMA = "bench_payroll"
BANKS = 4
PERIOD = 202406
CHUNK = 10_000
# 佛山, June: 238 failures out of 369,370 (挂失, 换卡中, 户名不符).
FAILURE_EVERY = 1552
FAILURE_CODES = ("04", "06", "01")


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--persons", type=int, default=100_000, help="领取人数 recipients (100000)")
    parser.add_argument("--keep", action="store_true", help="保留测试库 keep the scratch database")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="把各步骤（本系统部分）的 cProfile 写入 DIR/<步骤>.prof，逐条SQL耗时写入 DIR/<步骤>.sql.txt",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)


@register_bench(
    "payroll",
    help="待遇发放全流程：生成发放表、代发文件、回盘导入、对账，与裸SQL比较 payroll run vs bare SQL",
    arguments=_arguments,
)
def bench_payroll(options: Options) -> None:
    if options["persons"] < 1:
        raise CommandError("--persons 至少为 1")
    if options.get("load"):
        _load(options)
    elif options.get("worker"):
        _worker(options)
    else:
        _parent(options)


def _bench_dir() -> Path:
    path = Path(settings.DATA_DIR) / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _parent(options: Options) -> None:
    from django.db import connection

    is_pg = connection.vendor == "postgresql"
    sqlite_file = _bench_dir() / "payroll.sqlite3"
    if is_pg:
        url = os.environ.get("DATABASE_URL", "")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {PG_SCHEMA}")
        child_url = f"{url}{'&' if '?' in url else '?'}options={quote(f'-c search_path={PG_SCHEMA}')}"
    else:
        _remove_sqlite(sqlite_file)
        child_url = f"sqlite:///{sqlite_file}"
    base = [sys.executable, "-m", "shebao.manage", "bench", "payroll", "--persons", str(options["persons"])]
    env = {**os.environ, "DATABASE_URL": child_url}
    worker = [*base, "--worker"]
    if options.get("profile"):
        Path(options["profile"]).mkdir(parents=True, exist_ok=True)
        worker += ["--profile", str(Path(options["profile"]).resolve())]
    try:
        # Loading the county runs in its own process, so the measuring one's peak RSS is the steps'.
        code = subprocess.call([*base, "--load"], env=env) or subprocess.call(worker, env=env)
    finally:
        if not options.get("keep"):
            if is_pg:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            else:
                _remove_sqlite(sqlite_file)
    if code != 0:
        raise CommandError(f"基准测试子进程失败（退出码 {code}）")


# --- child ---------------------------------------------------------------------------------------


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _executemany(sql: str, rows: Any) -> None:
    from django.db import connection

    batch: list[Any] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= CHUNK:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _insert(model: Any, columns: list[str], rows: Any) -> None:
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    _executemany(sql, rows)


def _load_county(n: int) -> tuple[Any, Any, Any]:
    """N recipients, accounts spread over the banks, one employee-pension entitlement each."""
    from django.db import connection, transaction
    from django.utils import timezone

    from shebao.accounts.models import User
    from shebao.accounts.roles import Role
    from shebao.core.values.ssn import make_ssn
    from shebao.orgs.models import Bank, Region
    from shebao.payments.models import BenefitType, Entitlement, EntitlementAmount
    from shebao.people.models import PaymentAccount, Person

    region = Region.objects.create(code=settings.SHEBAO_REGION_CODE, name="基准县", level=Region.Level.COUNTY)
    banks = [
        Bank.objects.create(code=f"BK{k + 1}", name=f"基准银行{k + 1}", file_layout="txt-v1")
        for k in range(BANKS)
    ]
    clerk = User.objects.create(username="bench_clerk", role=Role.CENTRE_CLERK, region=region)
    supervisor = User.objects.create(username="bench_supervisor", role=Role.CENTRE_SUPERVISOR, region=region)
    pension = BenefitType.objects.get(code="PEN-EMP")
    now: Any = connection.ops.adapt_datetimefield_value(timezone.now())
    ad = connection.ops.adapt_datefield_value
    first, days = dt.date(1940, 1, 1), 20_000
    names = "王李张刘陈杨黄赵吴周"
    with transaction.atomic():
        _insert(
            Person,
            [
                "ssn",
                "name",
                "name_initials",
                "sex",
                "birth_date",
                "ethnicity",
                "phone",
                "address",
                "lives_in_region",
                "region_id",
                "created_at",
                "updated_at",
            ],
            (
                (
                    make_ssn(region.code, first + dt.timedelta(days=i % days), i // days),
                    f"{names[i % 10]}某{i}",
                    "",
                    "1",
                    ad(first + dt.timedelta(days=i % days)),
                    "",
                    "",
                    "",
                    True,
                    region.pk,
                    now,
                    now,
                )
                for i in range(n)
            ),
        )
        ids = list(Person.objects.order_by("pk").values_list("pk", "name"))
        _insert(
            PaymentAccount,
            [
                "person_id",
                "bank_id",
                "bank_name",
                "account_no",
                "account_name",
                "kind",
                "valid_from",
                "source",
                "note",
                "created_at",
            ],
            (
                (pk, banks[i % BANKS].pk, "", f"62170{i:014d}", name, "card", 201001, "import", "", now)
                for i, (pk, name) in enumerate(ids)
            ),
        )
        _insert(
            Entitlement,
            [
                "person_id",
                "benefit_type_id",
                "state",
                "reason",
                "from_period",
                "created_by_id",
                "created_at",
                "updated_at",
            ],
            ((pk, pension.pk, "active", "", 202001, clerk.pk, now, now) for pk, _ in ids),
        )
        _insert(
            EntitlementAmount,
            ["entitlement_id", "amount", "valid_from", "note", "created_by_id", "created_at"],
            (
                (pk, f"{1500 + (pk % 2000)}.{pk % 100:02d}", 202001, "", clerk.pk, now)
                for pk in Entitlement.objects.order_by("pk").values_list("pk", flat=True)
            ),
        )
    return region, (clerk, supervisor), pension


def _bare_generate(payroll_id: int, *, numbered: bool = True) -> int:
    from django.db import connection

    from shebao.payments.models import Payroll
    from shebao.payments.services import _insert_lines  # the statement our service runs, alone

    with connection.cursor():
        return _insert_lines(Payroll.objects.get(pk=payroll_id), numbered=numbered)


def _bare_export(payroll_id: int, out: Path) -> int:
    """Stream the payroll's lines per bank straight into GBK `|` lines (no header check, no hash)."""
    from django.db import connection

    from shebao.payments.models import PaymentLine
    from shebao.people.models import Person

    L, P = PaymentLine._meta.db_table, Person._meta.db_table
    n = 0
    # Streamed like ours (a server-side cursor on PostgreSQL): a client-side cursor there fetched every
    # line at once, and its ~180 bytes a line showed as the peak RSS of our files step, which follows.
    # The cursor is planned for the whole result (cursor_tuple_fraction 1), as a client-side one is; with
    # the default 0.1 (plans that start fast) the export of 1,000,000 lines took 10.7 s against 3.6 s.
    pg = connection.vendor == "postgresql"
    if pg:
        with connection.cursor() as setting:
            setting.execute("SET cursor_tuple_fraction = 1.0")
    with connection.chunked_cursor() as cursor, out.open("wb") as fh:
        cursor.execute(
            f"SELECT l.bank_id, l.account_no, l.account_name, l.amount, p.ssn, l.period FROM {L} l "
            f"JOIN {P} p ON p.id = l.person_id WHERE l.payroll_id = %s ORDER BY l.bank_id, l.id",
            [payroll_id],
        )
        while rows := cursor.fetchmany(CHUNK):
            for _bank, account_no, account_name, amount, ssn, period in rows:
                n += 1
                fh.write(
                    f"D|{n}|{account_no}|{account_name}|{amount:.2f}|01|{ssn}|PEN-EMP|{period}\r\n".encode(
                        "gbk"
                    )
                )
    if pg:
        with connection.cursor() as setting:
            setting.execute("RESET cursor_tuple_fraction")
    return n


def _return_file(bank_file: Any, path: Path) -> int:
    """The bank's answer: every line paid except one in FAILURE_EVERY, failed with a 佛山 reason."""
    from decimal import Decimal

    from shebao.payments.models import PaymentLine

    ok_n = fail_n = 0
    ok_amt = fail_amt = Decimal("0.00")
    details = path.with_suffix(".body")
    with details.open("wb") as fh:
        for seq, account_no, name, amount in (
            PaymentLine.objects.filter(bank_file=bank_file)
            .order_by("seq")
            .values_list("seq", "account_no", "account_name", "amount")
            .iterator(chunk_size=CHUNK)
        ):
            seq = int(seq or 0)
            if seq % FAILURE_EVERY == 0:
                code = FAILURE_CODES[(seq // FAILURE_EVERY) % len(FAILURE_CODES)]
                fail_n, fail_amt = fail_n + 1, fail_amt + amount
                line = f"D|{seq}|{account_no}|{name}|{amount:.2f}|1|{code}|失败"
            else:
                ok_n, ok_amt = ok_n + 1, ok_amt + amount
                line = f"D|{seq}|{account_no}|{name}|{amount:.2f}|0|00|成功"
            fh.write((line + "\r\n").encode("gbk"))
    head = (
        f"H|{bank_file.batch_no}|{bank_file.business_date:%Y%m%d}|110001|{ok_n + fail_n}|{ok_amt + fail_amt:.2f}"
        f"|{ok_n}|{ok_amt:.2f}|{fail_n}|{fail_amt:.2f}\r\n"
    )
    with path.open("wb") as out:
        out.write(head.encode("gbk"))
        out.write(details.read_bytes())
    details.unlink()
    return fail_n


def _bare_return(bank_file_id: int, path: Path) -> int:
    """Parse the return file and set every line's result with one executemany UPDATE by (file, seq)."""
    from django.db import connection

    from shebao.payments.models import PaymentLine

    sql = (
        f"UPDATE {PaymentLine._meta.db_table} SET state = %s, failure_code = %s "
        "WHERE bank_file_id = %s AND seq = %s"
    )
    reasons = {"01": "name_mismatch", "04": "lost", "06": "card_replacing"}
    n = 0

    def rows() -> Any:
        nonlocal n
        with path.open("rb") as fh:
            next(fh)
            for raw in fh:
                f = raw.decode("gbk").rstrip("\r\n").split("|")
                n += 1
                yield (
                    ("paid", "", bank_file_id, int(f[1]))
                    if f[5] == "0"
                    else ("failed", reasons[f[6]], bank_file_id, int(f[1]))
                )

    with connection.cursor():
        _executemany(sql, rows())
    return n


def _bare_return_bulk(bank_file_id: int, path: Path) -> int:
    """The set-based bare way: load (seq, result) into a temporary table (COPY on PostgreSQL, one
    executemany INSERT on SQLite), then one UPDATE … FROM it by (file, seq)."""
    from django.db import connection

    from shebao.payments.models import PaymentLine

    reasons = {"01": "name_mismatch", "04": "lost", "06": "card_replacing"}
    L = PaymentLine._meta.db_table
    n = 0

    def rows() -> Any:
        nonlocal n
        with path.open("rb") as fh:
            next(fh)
            for raw in fh:
                f = raw.decode("gbk").rstrip("\r\n").split("|")
                n += 1
                yield (int(f[1]), "paid", "") if f[5] == "0" else (int(f[1]), "failed", reasons[f[6]])

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bare_return (seq integer PRIMARY KEY, state varchar(10), failure_code varchar(20))"
        )
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY bare_return (seq, state, failure_code) FROM STDIN") as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            _executemany("INSERT INTO bare_return (seq, state, failure_code) VALUES (%s, %s, %s)", rows())
        cursor.execute(
            f"UPDATE {L} SET state = r.state, failure_code = r.failure_code FROM bare_return r "
            f"WHERE {L}.bank_file_id = %s AND {L}.seq = r.seq",
            [bank_file_id],
        )
        cursor.execute("DROP TABLE bare_return")
    return n


def _load(options: Options) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    _load_county(options["persons"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    (_bench_dir() / "payroll_setup_seconds").write_text(f"{time.perf_counter() - started:.1f}")


def _worker(options: Options) -> None:
    import sqlite3

    from django.db import connection, transaction

    from shebao.accounts.models import User
    from shebao.orgs.models import Region
    from shebao.payments.models import BankFile, BenefitType, PaymentLine, Payroll
    from shebao.payments.reconciliation import payroll_reconcile
    from shebao.payments.services import (
        bank_file_spool,
        payroll_approve,
        payroll_file,
        payroll_generate,
        return_file_import,
    )

    n = options["persons"]
    region = Region.objects.get(code=settings.SHEBAO_REGION_CODE)
    clerk = User.objects.get(username="bench_clerk")
    supervisor = User.objects.get(username="bench_supervisor")
    pension = BenefitType.objects.get(code="PEN-EMP")
    setup_file = _bench_dir() / "payroll_setup_seconds"
    setup = float(setup_file.read_text())
    setup_file.unlink()
    engine = f"SQLite {sqlite3.sqlite_version}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            engine = f"PostgreSQL {cursor.fetchone()[0]}"
    work = _bench_dir() / "payroll_files"
    work.mkdir(exist_ok=True)
    steps: list[dict[str, Any]] = []

    # CPU time of this process beside the wall clock: on SQLite it includes the database's own work, and
    # it swings far less than the wall clock when other processes share the cores.
    cpu: dict[str, float] = {}

    def step(name: str, ours: float, bare: float) -> None:
        ours_cpu, bare_cpu = cpu.pop("ours", 0.0), cpu.pop("bare", 0.0)
        steps.append(
            {
                "step": name,
                "ours_s": round(ours, 2),
                "bare_s": round(bare, 2),
                "ratio": round(ours / bare, 2) if bare else None,
                "ours_cpu_s": round(ours_cpu, 2),
                "bare_cpu_s": round(bare_cpu, 2),
                "cpu_ratio": round(ours_cpu / bare_cpu, 2) if bare_cpu else None,
                "peak_rss_mb": round(_rss_mb(), 1),
            }
        )

    profile_dir = options.get("profile")

    @contextmanager
    def measured(name: str) -> Iterator[Callable[[], float]]:
        """Time our side of a step (and cProfile it into DIR/<name>.prof with --profile DIR)."""
        profiler = cProfile.Profile() if profile_dir else None
        statements: dict[str, list[float]] = {}

        def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent = statements.setdefault(" ".join(sql.split())[:300], [0, 0.0])
                spent[0] += 1
                spent[1] += time.perf_counter() - t

        elapsed = [0.0]
        with connection.execute_wrapper(timed) if profile_dir else contextlib.nullcontext():
            started, started_cpu = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            try:
                yield lambda: elapsed[0]
            finally:
                elapsed[0] = time.perf_counter() - started
                cpu["ours"] = time.process_time() - started_cpu
                if profiler is not None:
                    profiler.disable()
                    profiler.dump_stats(str(Path(str(profile_dir)) / f"{name}.prof"))
                    # Per statement: calls, seconds in execute (a server-side cursor's fetches are not in it).
                    (Path(str(profile_dir)) / f"{name}.sql.txt").write_text(
                        "".join(
                            f"{int(n):6d} {secs:8.3f}s  {sql}\n"
                            for sql, (n, secs) in sorted(statements.items(), key=lambda kv: -kv[1][1])
                        )
                    )

    # 1. generation: the bare statement first (into a throw-away payroll), then ours.
    scratch = Payroll.objects.create(
        region=region,
        period=PERIOD,
        benefit_type=pension,
        prepared_by=clerk,
        prepared_at=dt.datetime.now(dt.UTC),
    )
    for _warm_then_measure in range(2):  # the first run warms the cache for both contenders
        t, c = time.perf_counter(), time.process_time()
        with transaction.atomic():
            bare_rows = _bare_generate(scratch.pk)
        bare, cpu["bare"] = time.perf_counter() - t, time.process_time() - c
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PaymentLine._meta.db_table} WHERE payroll_id = %s", [scratch.pk])
    # For reference (not a limit): the same statement without the numbering into the bank files, which
    # the generation took over from the filing; what it costs is printed beside the steps.
    t = time.perf_counter()
    with transaction.atomic():
        _bare_generate(scratch.pk, numbered=False)
    unnumbered = time.perf_counter() - t
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PaymentLine._meta.db_table} WHERE payroll_id = %s", [scratch.pk])
    BankFile.all_objects.filter(payroll=scratch).delete()  # the drafts its lines were numbered into
    scratch.delete()
    with measured("generate") as took:
        payroll = payroll_generate(region=region, period=PERIOD, benefit_type=pension, actor=clerk)
    ours = took()
    if bare_rows != n or payroll.lines.count() != n:
        raise CommandError(f"生成行数不符：{bare_rows} / {payroll.lines.count()}，应为 {n}")
    step("generate", ours, bare)

    # 2. bank files: approve + file (render and hash), then download each once more (render + check).
    t, c = time.perf_counter(), time.process_time()
    _bare_export(payroll.pk, work / "bare.txt")
    bare, bare_export_cpu = time.perf_counter() - t, time.process_time() - c
    cpu["bare"] = bare_export_cpu
    payroll_approve(payroll=payroll, actor=supervisor)
    with measured("files") as took:
        files = payroll_file(payroll=payroll, actor=clerk)  # pre-flight, seq, render to a spool and hash
    ours = took()
    step("files", ours, bare)
    with measured("download") as took:
        for bank_file in files:  # what a download does: render again to a spool, check the hash, stream it
            with bank_file_spool(bank_file) as spool, (work / f"{bank_file.batch_no}.txt").open("wb") as copy:
                shutil.copyfileobj(spool, copy)
    ours = took()
    cpu["bare"] = bare_export_cpu
    step("download", ours, bare)

    # 3. return files (generated outside the timing), bare load first, reset, then ours.
    returns = []
    failures = 0
    for bank_file in files:
        path = work / f"{bank_file.batch_no}.ret"
        failures += _return_file(bank_file, path)
        returns.append((bank_file, path))
    # Two bare ways, each on the same pending lines: per line (executemany UPDATE by file and seq) and
    # set-based (COPY or INSERT into a temporary table, one UPDATE … FROM); the faster is the limit.
    bare_ways = []
    for way in (_bare_return, _bare_return_bulk):
        t, c = time.perf_counter(), time.process_time()
        with transaction.atomic():
            for bank_file, path in returns:
                way(bank_file.pk, path)
        bare_ways.append((time.perf_counter() - t, time.process_time() - c, way.__name__))
        PaymentLine.objects.filter(payroll=payroll).update(state="pending", failure_code="")
    bare, cpu["bare"], bare_return_way = min(bare_ways)
    with measured("returns") as took:
        for _bank_file, path in returns:
            with path.open("rb") as data:  # streamed, as the upload view hands it over
                return_file_import(payroll=payroll, data=data, file_name=path.name, actor=clerk)
    ours = took()
    step("returns", ours, bare)
    steps[-1]["bare_way"] = bare_return_way
    steps[-1]["bare_ways_s"] = {name: round(wall, 2) for wall, _cpu, name in bare_ways}

    # 4. reconciliation.
    t, c = time.perf_counter(), time.process_time()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state, COUNT(*), SUM(amount) FROM {PaymentLine._meta.db_table} WHERE payroll_id = %s GROUP BY state",
            [payroll.pk],
        )
        cursor.fetchall()
    bare, cpu["bare"] = time.perf_counter() - t, time.process_time() - c
    with measured("reconcile") as took:
        fig = payroll_reconcile(payroll)
    ours = took()
    step("reconcile", ours, bare)

    for path in work.iterdir():
        path.unlink()
    payroll.refresh_from_db()
    out = sys.stdout
    out.write(f"待遇发放基准 payroll: {n:,} 人，{engine}，{BANKS} 家银行，准备数据 {setup:.1f} s\n")
    for s in steps:
        ratio = f"{s['ratio']:.2f} ×" if s["ratio"] is not None else "—"
        cpu_ratio = f"{s['cpu_ratio']:.2f} ×" if s["cpu_ratio"] is not None else "—"
        out.write(
            f"  {s['step']:<10} 本系统 ours {s['ours_s']:8.2f} s   裸SQL bare {s['bare_s']:8.2f} s   "
            f"比值 {ratio:>8}   CPU {s['ours_cpu_s']:.2f} / {s['bare_cpu_s']:.2f} s = {cpu_ratio:>8}   "
            f"峰值内存 {s['peak_rss_mb']:.0f} MB\n"
        )
    gen = next(s for s in steps if s["step"] == "generate")
    files_step = next(s for s in steps if s["step"] == "files")
    out.write(
        f"  numbering 生成时编号的代价 cost of numbering at generation: 裸SQL不编号 bare without it "
        f"{unnumbered:.2f} s（编号 numbered {gen['bare_s']:.2f} s）；生成+报盘 generate+files 本系统 ours "
        f"{gen['ours_s'] + files_step['ours_s']:.2f} s，裸SQL不编号+导出 bare unnumbered + export "
        f"{unnumbered + files_step['bare_s']:.2f} s = "
        f"{(gen['ours_s'] + files_step['ours_s']) / (unnumbered + files_step['bare_s']):.2f} ×\n"
    )
    ways = next(s["bare_ways_s"] for s in steps if s["step"] == "returns")
    out.write(
        f"  returns 裸SQL两种做法 bare ways: 逐行 per line {ways['_bare_return']:.2f} s，"
        f"临时表 set-based {ways['_bare_return_bulk']:.2f} s（取较快者 the faster is the limit）\n"
    )
    out.write(
        f"  结果：{payroll.get_state_display()}，成功 {fig.paid.count:,} 笔 {fig.paid.amount} 元，"
        f"失败 {fig.failed.count} 笔，首次成功率 {fig.success_rate}%，银行文件 {BankFile.objects.count()} 个\n"
    )
    out.write(
        json.dumps(
            {
                "bench": "payroll",
                "persons": n,
                "database": engine,
                "failures": failures,
                "steps": steps,
                "bare_generate_unnumbered_s": round(unnumbered, 2),
            },
            ensure_ascii=False,
        )
        + "\n"
    )

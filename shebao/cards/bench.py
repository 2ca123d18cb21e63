"""`shebao bench cards --cards N`: reading a factory return file against the bare-SQL limit.

The parent picks a scratch database (a SQLite file under var/bench/, or a dedicated schema when
DATABASE_URL is PostgreSQL) and measures in a child process, so that ru_maxrss is the peak of the
import alone. The child:

1. migrates, and inserts N persons and N cards in production with plain SQL (not timed);
2. writes the factory's return file: N produced cards (卡号, 社会保障号码, 姓名, 发卡日期, 卡识别码,
   银行代码, 银行账号, 装箱位置);
3. times `production_return_import` (checksum, validation pass, write pass: card updates, ledger
   `received` rows into the centre vault, audit rows) and reads ru_maxrss;
4. times the bare limit: the same CSV read with csv.reader and one executemany of a plain INSERT of
   the ledger rows, in one transaction;
5. puts the cards back in production and imports again under tracemalloc (skip: --no-tracemalloc).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError

from shebao.core.bench import Options, register_bench

PG_SCHEMA = "bench_cards"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏飞建国文辉林峰志海波宇浩凯云淑珍凤琴玲燕春"
)


def _bench_dir() -> Path:
    path = Path(settings.DATA_DIR) / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cards", type=int, default=200_000, help="回盘行数 rows in the return file (200000)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="保留测试库和文件 keep the scratch database and file"
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="跳过 tracemalloc 那一遍")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        default="",
        help="cProfile 读入步骤并写入 FILE（计时因此偏慢）profile the import",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


@register_bench(
    "cards",
    help="制卡回盘读入：与裸SQL插入出入库流水比较耗时和内存 read a factory return file vs bare executemany",
    arguments=_arguments,
)
def bench_cards(options: Options) -> None:
    if options["cards"] < 1:
        raise CommandError("--cards 至少为 1")
    if options.get("worker"):
        _worker(options)
    else:
        _parent(options)


def _parent(options: Options) -> None:
    from django.db import connection

    is_pg = connection.vendor == "postgresql"
    sqlite_file = _bench_dir() / "cards.sqlite3"
    if is_pg:
        url = os.environ.get("DATABASE_URL", "")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {PG_SCHEMA}")
        child_url = f"{url}{'&' if '?' in url else '?'}options={quote(f'-c search_path={PG_SCHEMA}')}"
    else:
        _remove_sqlite(sqlite_file)
        child_url = f"sqlite:///{sqlite_file}"
    command = [
        sys.executable,
        "-m",
        "shebao.manage",
        "bench",
        "cards",
        "--worker",
        "--cards",
        str(options["cards"]),
    ]
    if options.get("keep"):
        command.append("--keep")
    if options.get("no_tracemalloc"):
        command.append("--no-tracemalloc")
    if options.get("profile"):
        command += ["--profile", str(Path(options["profile"]).resolve())]
    try:
        code = subprocess.call(command, env={**os.environ, "DATABASE_URL": child_url})
    finally:
        if not options.get("keep"):
            if is_pg:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            else:
                _remove_sqlite(sqlite_file)
    if code != 0:
        raise CommandError(f"基准测试子进程失败（退出码 {code}）")


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _name(i: int) -> str:
    x = (i * 2654435761 + 12345) % 4294967296
    return _SURNAMES[x % len(_SURNAMES)] + _GIVEN[(x >> 8) % len(_GIVEN)] + _GIVEN[(x >> 17) % len(_GIVEN)]


def _ssn(i: int) -> str:
    from shebao.core.values.ssn import DEMO_REGION_CODE, make_ssn

    return make_ssn(DEMO_REGION_CODE, dt.date(1940, 1, 1) + dt.timedelta(days=i % 20_000), i // 20_000)


def _worker(options: Options) -> None:
    from django.core.management import call_command
    from django.db import connection

    from shebao.accounts.models import User
    from shebao.cards.services import production_return_import

    n = options["cards"]
    call_command("migrate", verbosity=0)
    actor, bank_code = _reference_rows(n)
    assert isinstance(actor, User)
    path = _bench_dir() / f"card_return_{n}.csv"
    _write_return(path, n, bank_code)
    size_mb = path.stat().st_size / 1e6
    # Statistics for the freshly loaded tables, as a live database has them (autovacuum would analyze them
    # within a minute): without them PostgreSQL planned the matching join over 5,000 rows as nested
    # loops of sequential scans (30 s instead of 0.1 s), while 200,000 rows took long enough to be analyzed.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    gc.collect()
    # ru_maxrss is a high-water mark: the setup above (N persons and cards, the file) sets a floor.
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profiler = None
    if options.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = production_return_import(path=path, actor=actor, custodian="基准库管")
    ours, ours_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler is not None:
        import pstats

        profiler.disable()
        profiler.dump_stats(options["profile"])
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if result.file.produced_count != n:
        raise CommandError(f"读入结果不符：制卡成功 {result.file.produced_count}，应为 {n}")

    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    bare_rows = _bare_insert(path)
    bare, bare_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if bare_rows != n:
        raise CommandError(f"裸插入行数不符：{bare_rows}，应为 {n}")

    traced_mb = None
    if not options.get("no_tracemalloc"):
        _reset()
        gc.collect()
        tracemalloc.start()
        production_return_import(path=path, actor=actor, custodian="基准库管")
        traced_mb = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()

    if not options.get("keep"):
        path.unlink(missing_ok=True)
    import sqlite3

    engine = f"SQLite {sqlite3.sqlite_version}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            engine = f"PostgreSQL {cursor.fetchone()[0]}"
    figures = {
        "bench": "cards",
        "rows": n,
        "database": engine,
        "file_mb": round(size_mb, 1),
        "ours_s": round(ours, 2),
        "bare_s": round(bare, 2),
        "ratio": round(ours / bare, 2),
        # The machine is shared: process CPU time is steadier (on SQLite it includes the database work).
        "ours_cpu_s": round(ours_cpu, 2),
        "bare_cpu_s": round(bare_cpu, 2),
        "ours_rows_per_s": round(n / ours),
        "rss_before_import_mb": round(rss_before_mb, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "tracemalloc_peak_mb": None if traced_mb is None else round(traced_mb, 1),
    }
    out = sys.stdout
    out.write(f"制卡回盘读入基准 cards: {n:,} 行，{engine}，CSV {size_mb:.1f} MB\n")
    out.write(f"  本系统读入 ours : {ours:8.2f} s  {n / ours:>10,.0f} 行/秒 rows/s\n")
    out.write(f"  裸SQL插入 bare  : {bare:8.2f} s  {n / bare:>10,.0f} 行/秒 rows/s\n")
    out.write(f"  比值 ratio      : {ours / bare:8.2f} ×\n")
    out.write(f"  进程CPU process CPU ours / bare: {ours_cpu:.2f} s / {bare_cpu:.2f} s\n")
    out.write(
        f"  峰值内存 peak RSS (ru_maxrss) before / after the import: {rss_before_mb:.1f} / {peak_rss_mb:.1f} MB\n"
    )
    if traced_mb is not None:
        out.write(f"  tracemalloc 峰值 (import step): {traced_mb:.1f} MB\n")
    out.write(json.dumps(figures, ensure_ascii=False) + "\n")


def _reference_rows(n: int) -> tuple[Any, str]:
    """A region, a bank, a centre clerk, and N persons with a card in production (plain SQL)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from shebao.accounts.models import User
    from shebao.accounts.roles import Role
    from shebao.cards.models import Card, CardState
    from shebao.orgs.models import Bank, Region
    from shebao.people.models import Person

    region, _ = Region.objects.get_or_create(
        code=settings.SHEBAO_REGION_CODE, defaults={"name": "基准县", "level": Region.Level.COUNTY}
    )
    bank, _ = Bank.objects.get_or_create(code="BB01", defaults={"name": "基准银行"})
    actor, _ = User.objects.get_or_create(
        username="bench_clerk",
        defaults={"role": Role.CENTRE_CLERK, "region": region, "full_name": "基准经办"},
    )
    now: Any = connection.ops.adapt_datetimefield_value(timezone.now())
    as_date = connection.vendor == "postgresql"
    p_cols = ["ssn", "name", "name_initials", "sex", "birth_date", "ethnicity", "phone", "address"]
    p_cols += ["lives_in_region", "region_id", "created_at", "updated_at"]
    p_sql = f"INSERT INTO {Person._meta.db_table} ({', '.join(p_cols)}) VALUES ({', '.join(['%s'] * len(p_cols))})"

    def persons() -> Any:
        for i in range(n):
            ssn = _ssn(i)
            birth: Any = f"{ssn[6:10]}-{ssn[10:12]}-{ssn[12:14]}"
            if as_date:
                birth = dt.date.fromisoformat(birth)
            yield (
                ssn,
                _name(i),
                "",
                "1" if int(ssn[16]) % 2 else "2",
                birth,
                "",
                "",
                "",
                True,
                region.pk,
                now,
                now,
            )

    c_cols = ["person_id", "bank_id", "generation", "state", "card_uid", "bank_account", "box_position"]
    c_cols += ["failure_stage", "failure_reason", "ss_activated_place", "ss_activated_channel"]
    c_cols += ["fin_activated_place", "fin_activated_channel", "created_at", "updated_at"]
    c_sql = (
        f"INSERT INTO {Card._meta.db_table} ({', '.join(c_cols)}) "
        f"SELECT id, %s, 3, %s, '', '', '', '', '', '', '', '', '', %s, %s FROM {Person._meta.db_table}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(p_sql, persons())
        cursor.execute(c_sql, [bank.pk, CardState.IN_PRODUCTION, now, now])
    return actor, bank.code


def _write_return(path: Path, n: int, bank_code: str) -> None:
    from shebao.cards.importers import COLUMNS
    from shebao.core.values.bank import luhn_check_digit, make_card_uid

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS.values())
        for i in range(n):
            head = f"621700{i:012d}"
            writer.writerow(
                [
                    f"C{i:08d}",
                    _ssn(i),
                    _name(i),
                    "2024-05-16",
                    "",
                    make_card_uid("341521", i),
                    bank_code,
                    head + luhn_check_digit(head),
                    f"B{i // 500:04d}-{i % 500:03d}",
                    "",
                    "",
                ]
            )


def _bare_insert(path: Path) -> int:
    """The limit: the same file read with csv.reader, one executemany of the ledger INSERT."""
    from django.db import connection, transaction
    from django.utils import timezone

    from shebao.cards.models import CardLocation, CardMovement
    from shebao.people.models import Person

    vault = CardLocation.objects.get(kind=CardLocation.Kind.CENTRE)
    card_of = dict(Person.objects.values_list("ssn", "cards__id"))
    now: Any = connection.ops.adapt_datetimefield_value(timezone.now())
    cols = ["card_id", "location_id", "kind", "custodian", "counterparty", "batch_ref", "at", "note"]
    sql = f"INSERT INTO {CardMovement._meta.db_table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    count = 0

    def rows() -> Any:
        nonlocal count
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for line in reader:
                count += 1
                yield (card_of[line[1]], vault.pk, "received", "基准库管", "", line[8], now, "")

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows())
    return count


def _reset() -> None:
    """Cards back in production; the ledger, return files and audit rows emptied."""
    from django.db import connection

    from shebao.audit.models import AuditLog
    from shebao.cards.models import Card, CardMovement, CardState, ProductionReturnFile

    tables = [m._meta.db_table for m in (CardMovement, ProductionReturnFile, AuditLog)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The audit table refuses DELETE (an append-only trigger); a scratch schema may be truncated.
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"UPDATE {Card._meta.db_table} SET state = %s, card_no = NULL", [CardState.IN_PRODUCTION]
        )

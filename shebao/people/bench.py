"""`shebao bench import_persons --persons N`: our import against the bare-SQL limit.

The parent process picks a scratch database (a SQLite file under var/bench/, or a dedicated schema
when DATABASE_URL is PostgreSQL) and runs the measurement in a child process, so that ru_maxrss is
the peak of the import and not of whatever ran before. The child:

1. migrates the scratch database and adds a region, townships, units and a bank;
2. writes a deterministic CSV of N valid rows (unique SSNs from make_ssn);
3. times `persons_import` on it (checksum, validation pass, write pass) and reads ru_maxrss;
4. empties the tables and times the bare limit: the same CSV read with csv.reader and inserted
   with one executemany of a plain INSERT into the person table, in one transaction;
5. empties the tables and imports again under tracemalloc for the Python-level peak of the import.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import itertools
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

PG_SCHEMA = "bench_import_persons"
UNITS = 50
TOWNSHIPS = 20
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅鹏飞建国文辉林峰志海波宇浩凯云淑珍凤琴玲燕春"
    "德福寿荣贵生长发成新福庆金银山水清泉松柏竹菊莲荷翠玉宝珠彩霞月星光辉东南西北中和平安康宁"
)
_ETHNICITIES = ("汉族", "汉族", "汉族", "汉族", "回族", "满族")


def _bench_dir() -> Path:
    path = Path(settings.DATA_DIR) / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--persons", type=int, default=100_000, help="行数 rows in the generated file (100000)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="保留测试库和CSV keep the scratch database and the CSV"
    )
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="跳过 tracemalloc 那一遍 skip the third, traced import"
    )
    parser.add_argument("--profile", metavar="FILE", help="把导入步骤的 cProfile 写入 FILE")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


@register_bench(
    "import_persons",
    help="人员导入：与裸SQL插入比较耗时和内存 import N synthetic persons and compare with bare executemany",
    arguments=_arguments,
)
def bench_import_persons(options: Options) -> None:
    if options["persons"] < 1:
        raise CommandError("--persons 至少为 1")
    if options.get("worker"):
        _worker(options)
    else:
        _parent(options)


# --- parent: choose and clean the scratch database -------------------------------------------------


def _parent(options: Options) -> None:
    from django.db import connection

    is_pg = connection.vendor == "postgresql"
    sqlite_file = _bench_dir() / "import_persons.sqlite3"
    if is_pg:
        url = os.environ.get("DATABASE_URL", "")
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {PG_SCHEMA}")
        child_url = f"{url}{'&' if '?' in url else '?'}options={quote(f'-c search_path={PG_SCHEMA}')}"
    else:
        _remove_sqlite(sqlite_file)
        child_url = f"sqlite:///{sqlite_file}"
    command = [sys.executable, "-m", "shebao.manage", "bench", "import_persons", "--worker"]
    command += ["--persons", str(options["persons"])]
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


# --- child: measure ------------------------------------------------------------------------------


def _worker(options: Options) -> None:
    from django.core.management import call_command
    from django.db import connection

    from shebao.people.services import persons_import

    n = options["persons"]
    call_command("migrate", verbosity=0)
    refs = _reference_rows()
    path = _bench_dir() / f"persons_{n}.csv"
    started = time.perf_counter()
    _write_csv(path, n, refs)
    generated = time.perf_counter() - started
    size_mb = path.stat().st_size / 1e6

    _empty_tables()
    gc.collect()
    profiler = None
    if options.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started, cpu = time.perf_counter(), time.process_time()
    result = persons_import(actor="基准测试", path=path, file_name=path.name)
    ours, ours_cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(options["profile"])
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if result.created != n:
        raise CommandError(f"导入结果不符：新增 {result.created}，应为 {n}")

    _empty_tables()
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    bare_rows = _bare_insert(path, refs)
    bare, bare_cpu = time.perf_counter() - started, time.process_time() - cpu
    if bare_rows != n:
        raise CommandError(f"裸插入行数不符：{bare_rows}，应为 {n}")

    traced_mb = None
    if not options.get("no_tracemalloc"):
        _empty_tables()
        gc.collect()
        tracemalloc.start()
        persons_import(actor="基准测试", path=path, file_name=path.name)
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
        "bench": "import_persons",
        "rows": n,
        "database": engine,
        "file_mb": round(size_mb, 1),
        "generate_s": round(generated, 2),
        "ours_s": round(ours, 2),
        "bare_s": round(bare, 2),
        "ratio": round(ours / bare, 2),
        "ours_cpu_s": round(ours_cpu, 2),
        "bare_cpu_s": round(bare_cpu, 2),
        "ours_rows_per_s": round(n / ours),
        "bare_rows_per_s": round(n / bare),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "tracemalloc_peak_mb": None if traced_mb is None else round(traced_mb, 1),
    }
    out = sys.stdout
    out.write(f"人员导入基准 import_persons: {n:,} 行，{engine}，CSV {size_mb:.1f} MB\n")
    out.write(f"  本系统导入 ours : {ours:8.2f} s  {n / ours:>10,.0f} 行/秒 rows/s\n")
    out.write(f"  裸SQL插入 bare  : {bare:8.2f} s  {n / bare:>10,.0f} 行/秒 rows/s\n")
    out.write(f"  比值 ratio      : {ours / bare:8.2f} ×\n")
    # On a shared machine the wall clock moves with the load; this process's CPU time moves less
    # (on PostgreSQL it leaves out the server's share).
    out.write(f"  本进程CPU时间 process CPU: ours {ours_cpu:.2f} s, bare {bare_cpu:.2f} s\n")
    out.write(f"  峰值内存 peak RSS (ru_maxrss, after the import): {peak_rss_mb:.1f} MB\n")
    if traced_mb is not None:
        out.write(f"  tracemalloc 峰值 (import step): {traced_mb:.1f} MB\n")
    out.write(json.dumps(figures, ensure_ascii=False) + "\n")


class _Refs:
    def __init__(self, region_id: int, units: list[tuple[str, int]], towns: list[tuple[str, int]]):
        self.region_id = region_id
        self.units = units
        self.towns = towns


def _reference_rows() -> _Refs:
    from shebao.orgs.models import Bank, Employer, Region, Township

    code = settings.SHEBAO_REGION_CODE
    region, _ = Region.objects.get_or_create(
        code=code, defaults={"name": "基准县", "level": Region.Level.COUNTY}
    )
    towns = []
    for k in range(TOWNSHIPS):
        town, _ = Township.objects.get_or_create(
            code=f"{code}{100 + k:03d}", defaults={"region": region, "name": f"基准镇{k + 1}"}
        )
        towns.append((town.code, town.pk))
    units = []
    for j in range(UNITS):
        unit, _ = Employer.objects.get_or_create(
            code=f"BU{j + 1:04d}",
            defaults={"region": region, "name": f"基准单位{j + 1}", "township_id": towns[j % TOWNSHIPS][1]},
        )
        units.append((unit.code, unit.pk))
    Bank.objects.get_or_create(code="BB01", defaults={"name": "基准银行"})
    return _Refs(region.pk, units, towns)


def _name(i: int) -> str:
    x = (i * 2654435761 + 12345) % 4294967296
    given = _GIVEN[(x >> 8) % len(_GIVEN)]
    if x & 1:
        given += _GIVEN[(x >> 17) % len(_GIVEN)]
    return _SURNAMES[x % len(_SURNAMES)] + given


def _write_csv(path: Path, n: int, refs: _Refs) -> None:
    """N valid rows: birth dates spread over 55 years, the 3-digit sequence makes each SSN unique."""
    from shebao.core.values.ssn import DEMO_REGION_CODE, make_ssn

    first_day = dt.date(1940, 1, 1)
    days = 20_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["社会保障号码", "姓名", "民族", "联系电话", "住址", "单位编号", "乡镇代码", "居住地"]
        )
        for i in range(n):
            birth = first_day + dt.timedelta(days=i % days)
            town_code = refs.towns[i % TOWNSHIPS][0]
            writer.writerow(
                [
                    make_ssn(DEMO_REGION_CODE, birth, i // days),
                    _name(i),
                    _ETHNICITIES[i % len(_ETHNICITIES)],
                    f"138{i:08d}",
                    f"基准镇{i % TOWNSHIPS + 1}幸福村{i % 97 + 1}组{i % 50 + 1}号",
                    refs.units[i % UNITS][0],
                    town_code,
                    "区外" if i % 10 == 0 else "区内",
                ]
            )


def _empty_tables() -> None:
    from django.db import connection

    from shebao.audit.models import AuditLog
    from shebao.people.models import ImportBatch, PaymentAccount, Person, PersonCategory

    tables = [m._meta.db_table for m in (PaymentAccount, PersonCategory, Person, ImportBatch, AuditLog)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
            # Both measurements start from a compact file that has to grow.
            cursor.execute("VACUUM")


def _bare_insert(path: Path, refs: _Refs) -> int:
    """The limit: read the same CSV, one executemany of a plain INSERT, one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from shebao.people.models import Person

    columns = [
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
        "employer_id",
        "township_id",
        "created_at",
        "updated_at",
    ]
    sql = (
        f"INSERT INTO {Person._meta.db_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    now: Any = connection.ops.adapt_datetimefield_value(timezone.now())
    units = dict(refs.units)
    towns = dict(refs.towns)
    region_id = refs.region_id
    as_date = connection.vendor == "postgresql"
    count = 0

    def rows() -> Any:
        nonlocal count
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for ssn, name, ethnicity, phone, address, unit, town, residence in reader:
                count += 1
                birth: Any = f"{ssn[6:10]}-{ssn[10:12]}-{ssn[12:14]}"
                if as_date:
                    birth = dt.date(int(ssn[6:10]), int(ssn[10:12]), int(ssn[12:14]))
                yield (
                    ssn,
                    name,
                    "",
                    "1" if int(ssn[16]) % 2 else "2",
                    birth,
                    ethnicity,
                    phone,
                    address,
                    residence == "区内",
                    region_id,
                    units[unit],
                    towns[town],
                    now,
                    now,
                )

    # Lists of 10,000: Django's SQLite cursor tee()s a generator passed to executemany and would keep
    # every row in memory.
    with transaction.atomic(), connection.cursor() as cursor:
        source = rows()
        while batch := list(itertools.islice(source, 10_000)):
            cursor.executemany(sql, batch)
    return count

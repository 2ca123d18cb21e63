"""`shebao seed`: load the deterministic demo county (see shebao.demo)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.core.errors import DomainError
from shebao.demo.generator import DEFAULT_UNITS
from shebao.demo.services import Existing, demo_seed


class Command(BaseCommand):
    help = (
        "生成演示县数据（统筹区、乡镇、单位、银行网点、人员、发放账户、演示用户）。"
        " Seeds a deterministic demo county: the same --persons, --seed and --as-of give identical data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--persons", type=int, default=20000, help="人员数 number of persons (default 20000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="随机种子 random seed (default 1)")
        parser.add_argument(
            "--region-code",
            default=None,
            help=f"县级地区代码 county region code (default settings.SHEBAO_REGION_CODE={settings.SHEBAO_REGION_CODE})",
        )
        parser.add_argument(
            "--units", type=int, default=DEFAULT_UNITS, help=f"参保单位数 employer units ({DEFAULT_UNITS})"
        )
        parser.add_argument(
            "--as-of",
            default=None,
            help=(
                "基准日期 YYYY-MM-DD from which ages and death dates count"
                " (default: the as-of date of the previous seed of this region, else today)"
            ),
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty",
            action="store_true",
            help="库中已有人员时什么也不做 do nothing when any person exists",
        )
        mode.add_argument(
            "--force",
            action="store_true",
            help=(
                "库中已有数据时只补充缺少的演示数据（按编码、社会保障号码、用户名判断），重复运行不会重复添加。"
                " On a non-empty database add only rows whose code/SSN/username is missing; a rerun adds nothing."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["persons"] < 0:
            raise CommandError("--persons 不能为负数")
        as_of = None
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError(f"--as-of 应为 YYYY-MM-DD，收到 {options['as_of']!r}") from None
        existing: Existing = (
            "skip" if options["if_empty"] else "add_missing" if options["force"] else "refuse"
        )
        started = time.monotonic()
        try:
            result = demo_seed(
                persons=options["persons"],
                seed=options["seed"],
                region_code=options["region_code"] or settings.SHEBAO_REGION_CODE,
                as_of=as_of,
                units=options["units"],
                existing=existing,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        elapsed = time.monotonic() - started

        if result.skipped_reason:
            self.stdout.write(f"{result.skipped_reason}（--if-empty）。 Database not empty: nothing seeded.")
            return
        if not result.total_created:
            self.stdout.write(
                "演示数据已全部存在，未添加任何数据。 All demo rows already exist: nothing added."
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已生成 Demo county seeded: {result.generated_persons} persons generated, "
                f"seed {options['seed']}, as of {result.as_of}, {elapsed:.1f} s"
            )
        )
        self.stdout.write("新增记录 Rows created:")
        for label, count in result.created.items():
            self.stdout.write(f"  {count:>8}  {label}")
        if result.categories:
            total = sum(result.categories.values())
            self.stdout.write("人员类别 Persons by category:")
            for label, count in sorted(result.categories.items(), key=lambda item: -item[1]):
                self.stdout.write(f"  {count:>8}  {count / total:7.2%}  {label}")
        self.stdout.write("演示账号见 demo logins: shebao demo_logins")

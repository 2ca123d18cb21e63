"""`shebao payroll_file --payroll 12 --out DIR --as clerk`: write the bank files of an approved payroll."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.core.errors import DomainError
from shebao.payments.management.commands._common import actor, add_actor


class Command(BaseCommand):
    help = (
        "生成代发文件并写到目录 Create the bank files of an approved payroll and write them to a directory."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--payroll", type=int, required=True, help="发放表编号 payroll id")
        parser.add_argument("--out", required=True, help="输出目录 output directory")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.payments.layouts import get_layout
        from shebao.payments.models import Payroll
        from shebao.payments.services import bank_file_download, payroll_file

        user = actor(options)
        payroll = Payroll.objects.filter(pk=options["payroll"]).first()
        if payroll is None:
            raise CommandError(f"发放表 #{options['payroll']} 不存在")
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        try:
            if payroll.state == Payroll.State.DRAFT:
                raise CommandError("发放表尚未复核，复核后才能生成代发文件")
            if payroll.state == Payroll.State.APPROVED:
                files = payroll_file(payroll=payroll, actor=user)
            else:
                files = list(payroll.bank_files.all())
            for bank_file in files:
                path = out / f"{bank_file.batch_no}.{get_layout(bank_file.layout).extension}"
                with bank_file_download(bank_file=bank_file, actor=user) as spool, path.open("wb") as f:
                    shutil.copyfileobj(spool, f)
                self.stdout.write(
                    f"{path}  {bank_file.control_count}笔 {bank_file.control_total}元  {bank_file.sha256}"
                )
        except DomainError as exc:
            raise CommandError(exc.message) from None

"""`shebao return_import --payroll 12 FILE... --as clerk`: apply bank return files (all or nothing each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.core.errors import DomainError
from shebao.payments.management.commands._common import actor, add_actor


class Command(BaseCommand):
    help = "导入回盘文件 Import bank return files; a file with any problem is refused and changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--payroll", type=int, required=True, help="发放表编号 payroll id")
        parser.add_argument("files", nargs="+", help="回盘文件 return files")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.payments.models import Payroll
        from shebao.payments.reconciliation import payroll_figures
        from shebao.payments.services import return_file_import

        user = actor(options)
        payroll = Payroll.objects.filter(pk=options["payroll"]).first()
        if payroll is None:
            raise CommandError(f"发放表 #{options['payroll']} 不存在")
        failed = False
        for name in options["files"]:
            path = Path(name)
            try:
                with path.open("rb") as data:
                    result = return_file_import(payroll=payroll, data=data, file_name=path.name, actor=user)
            except DomainError as exc:
                failed = True
                self.stderr.write(f"{path.name}: {exc.message}")
                continue
            if result.duplicate:
                self.stdout.write(f"{path.name}: 已导入过，未做任何更改")
            else:
                self.stdout.write(f"{path.name}: 成功{result.paid}笔，失败{result.failed}笔")
        payroll.refresh_from_db()
        fig = payroll_figures(payroll)
        rate = f"{fig.success_rate}%" if fig.success_rate is not None else "—"
        self.stdout.write(
            f"{payroll}（{payroll.get_state_display()}）：应发{fig.issued.count}笔{fig.issued.amount}元，"
            f"成功{fig.paid.count}笔{fig.paid.amount}元，失败{fig.failed.count}笔，成功率{rate}"
        )
        if failed:
            raise CommandError("部分回盘文件被拒绝")

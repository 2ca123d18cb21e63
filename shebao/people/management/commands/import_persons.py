"""`shebao import_persons FILE [--actor USERNAME]`: the person import, run synchronously."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.core.errors import DomainError
from shebao.people.importers import ImportRejected


class Command(BaseCommand):
    help = "导入人员文件（xlsx、xls、ods、csv）：先检查整个文件，有问题时逐条列出并以非零状态退出，不写入任何数据"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="人员文件路径")
        parser.add_argument("--actor", help="以该用户名记录操作人（默认：系统）")

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.accounts.models import User
        from shebao.people.services import persons_import

        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor: Any = "系统"
        if options["actor"]:
            actor = User.objects.filter(username=options["actor"], is_active=True).first()
            if actor is None:
                raise CommandError(f"用户不存在或已停用：{options['actor']}")
        try:
            result = persons_import(actor=actor, path=path, file_name=path.name)
        except ImportRejected as exc:
            for problem in exc.problems:
                self.stderr.write(
                    f"第{problem.row or '-'}行\t{problem.column or '-'}\t{problem.value}\t{problem.message}"
                )
            if exc.total > len(exc.problems):
                self.stderr.write(f"……另有 {exc.total - len(exc.problems)} 个问题未列出")
            raise CommandError(exc.message) from None
        except DomainError as exc:
            raise CommandError(exc.message) from None
        for warning in result.warnings:
            self.stdout.write(
                f"提示：第{warning.row}行\t{warning.column}\t{warning.value}\t{warning.message}"
            )
        self.stdout.write(self.style.SUCCESS(result.message))

"""shebao death_import FILE --as USER [--source 民政数据比对]: deaths from a file, checked whole first.

The same work as 批量导入死亡信息 on the death page. On any problem every one is listed by row and column,
nobody is recorded and the command exits non-zero; the same file twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.payments.management.commands._common import actor, add_actor


class Command(BaseCommand):
    help = "导入死亡信息（xlsx、xls、ods、csv）：先检查整个文件，有问题时逐条列出且不登记任何人"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        add_actor(parser)
        parser.add_argument("--source", default="民政数据比对", help="文件中未填写信息来源时使用")

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.core.errors import DomainError
        from shebao.payments.deaths import death_import
        from shebao.people.importers import ImportRejected

        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        try:
            result = death_import(
                path=path, file_name=path.name, source=options["source"], actor=actor(options)
            )
        except ImportRejected as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(exc.message) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        if result.duplicate:
            self.stdout.write("该文件已导入过，本次未做任何更改")
            return
        self.stdout.write(
            f"共{result.rows}行：登记死亡{result.recorded}人（已登记过的{result.unchanged}人未变），"
            f"终止待遇{result.terminated}项，暂缓{result.held}笔，发现多发{result.overpayments}笔"
        )

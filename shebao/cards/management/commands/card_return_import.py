"""shebao card_return_import FILE --as USER: read the card factory's (or bank's) return file.

The same work as 读入回盘文件 on the production page (a background job there for a large file): the whole
file is checked first; on any problem every one is listed by row and column, nothing is written and the
command exits non-zero. The same file read twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "读入制卡回盘文件（csv 或 xlsx）：逐行检查，有问题时列出全部问题且不写入任何数据"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="操作人用户名（记入审计）")
        parser.add_argument("--custodian", default="", help="中心库房保管人（默认：操作人）")

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.accounts.models import User
        from shebao.cards.importers import ReturnFileInvalid
        from shebao.cards.services import production_return_import
        from shebao.core.errors import DomainError

        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = User.objects.filter(username=options["username"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{options['username']}”不存在或已停用")
        try:
            result = production_return_import(path=path, actor=actor, custodian=options["custodian"])
        except ReturnFileInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(exc.message) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        f = result.file
        if result.already_read:
            self.stdout.write("该文件已读入过，本次未做任何修改")
        else:
            self.stdout.write(
                f"已读入{f.row_count}行：制卡成功{f.produced_count}张，失败{f.failed_count}张，已处理过{f.unchanged_count}行"
            )

"""shebao switching_forms: this period's verification forms (核实反馈表) for every unit and township.

The same work as 生成本月核实反馈表 on the forms page (a background job there when many people are to be
verified). Running it twice adds nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "生成核实反馈表：本统筹区每个单位、乡镇一张，列出尚未通过社保卡发放的待遇人员"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as", dest="username", required=True, help="操作人用户名（记入审计；须有生成权限）")
        parser.add_argument("--period", help="发表期 YYYYMM（默认：本月）")

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.accounts.models import User
        from shebao.core.errors import DomainError
        from shebao.core.values.period import parse_period
        from shebao.switching.services import forms_generate

        actor = User.objects.filter(username=options["username"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{options['username']}”不存在或已停用")
        try:
            period = parse_period(options["period"]) if options.get("period") else None
            created = forms_generate(actor=actor, period=period)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"已生成 {len(created)} 张核实反馈表" if created else "没有需要生成的核实反馈表")
        for form in created[:20]:
            self.stdout.write(f"  {form.code}\t{form}")
        if len(created) > 20:
            self.stdout.write(f"  …… 另有 {len(created) - 20} 张")

"""`shebao payroll_run --period 202406 --benefit PEN-EMP --as clerk`: generate (or regenerate) a draft payroll."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.core.errors import DomainError
from shebao.payments.management.commands._common import actor, add_actor, region


class Command(BaseCommand):
    help = "生成待遇发放表（草稿可重新生成） Generate the draft payroll of a period and benefit type."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="发放期 YYYYMM")
        parser.add_argument("--benefit", required=True, help="待遇代码 benefit type code, e.g. PEN-EMP")
        parser.add_argument("--region", default=None, help="统筹区代码 (default SHEBAO_REGION_CODE)")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.payments.models import BenefitType
        from shebao.payments.reconciliation import payroll_figures
        from shebao.payments.services import payroll_generate

        benefit = BenefitType.objects.filter(code=options["benefit"]).first()
        if benefit is None:
            codes = ", ".join(BenefitType.objects.values_list("code", flat=True))
            raise CommandError(f"待遇代码“{options['benefit']}”不存在（可用：{codes}）")
        try:
            payroll = payroll_generate(
                region=region(options["region"]),
                period=options["period"],
                benefit_type=benefit,
                actor=actor(options),
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        fig = payroll_figures(payroll)
        self.stdout.write(
            f"发放表 #{payroll.pk} {payroll}：{fig.issued.count}笔 {fig.issued.amount}元，"
            f"暂缓{fig.held.count}笔 {fig.held.amount}元"
        )

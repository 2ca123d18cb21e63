"""`shebao certification_sweep --period 202406 --as clerk`: suspend, from the next month, everyone overdue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.core.errors import DomainError
from shebao.payments.management.commands._common import actor, add_actor, region


class Command(BaseCommand):
    help = "逾期未认证暂停发放（次月起） Suspend from the next month every recipient overdue at the end of --period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="期别 YYYYMM (usually the current month)")
        parser.add_argument("--region", default=None, help="统筹区代码 (default SHEBAO_REGION_CODE)")
        add_actor(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.payments.services import certification_sweep

        try:
            n = certification_sweep(
                region=region(options["region"]), period=options["period"], actor=actor(options)
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"逾期未认证，次月起暂停发放：{n}项待遇")

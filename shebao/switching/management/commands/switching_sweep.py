"""shebao switching_sweep: what the switching app otherwise does on a trigger, for a schedule (cron).

Failed payments into switched accounts go back to their units and townships; new beneficiaries without an
account take their activated card account. Running it twice changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "账户切换定期处理：回盘失败退回单位（乡镇），新增待遇人员启用已激活的社保卡账户"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--region", help="统筹区代码（默认：SHEBAO_REGION_CODE）")
        parser.add_argument("--period", help="新增待遇人员账户的启用期 YYYYMM（默认：本月）")
        parser.add_argument("--user", required=True, help="以该用户名记录操作人（登记发放失败须为用户）")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        from django.conf import settings
        from django.utils import timezone

        from shebao.accounts.models import User
        from shebao.core.errors import DomainError
        from shebao.core.values.period import parse_period, period_of
        from shebao.orgs.models import Region
        from shebao.switching.automatic import new_beneficiaries_sweep, switch_failures_from_returns

        code = options.get("region") or settings.SHEBAO_REGION_CODE
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(f"统筹区 {code} 不存在")
        actor = User.objects.filter(username=options["user"]).first()
        if actor is None:
            raise CommandError(f"用户 {options['user']} 不存在")
        try:
            period = (
                parse_period(options["period"]) if options.get("period") else period_of(timezone.localdate())
            )
            failures = switch_failures_from_returns(actor=actor)
            outcome = new_beneficiaries_sweep(actor=actor, region_id=region.pk, period=period)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"回盘失败退回单位（乡镇）：{failures}人；新增待遇人员启用社保卡账户：{outcome['created']}人，"
            f"待跟进：{outcome['follow_up']}人"
        )

"""shebao campaign: the long steps of a card-generation replacement campaign, for a schedule or a large
phase (the pages send the same work to a background job).

  shebao campaign apply PHASE_ID --as USER      换代批量申领 for every member of the phase without one
  shebao campaign refetch PHASE_ID --as USER    再次获取 the medical balance of every waiting transfer
  shebao campaign cancel-old CAMPAIGN_ID --as USER   注销原卡 after the transition end

Each step is audited as the named user and may be run again: it only does what is still to do.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class _Progress:
    """Prints the progress a job would show on its page."""

    def __init__(self, command: BaseCommand) -> None:
        self.command, self.total = command, 0

    def set_total(self, total: int) -> None:
        self.total = total

    def advance(self, done: int, message: str = "", *, force: bool = False) -> None:
        self.command.stdout.write(f"{done}/{self.total} {message}".rstrip())


class Command(BaseCommand):
    help = "换代换卡：apply 阶段批量申领；refetch 再次获取医保余额；cancel-old 过渡期结束后注销原卡"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["apply", "refetch", "cancel-old"])
        parser.add_argument("object_id", type=int, help="阶段编号（apply、refetch）或活动编号（cancel-old）")
        parser.add_argument("--as", dest="username", required=True, help="操作人用户名（记入审计）")

    def handle(self, *args: Any, **options: Any) -> None:
        from shebao.accounts.models import User
        from shebao.campaigns.models import Campaign, CampaignPhase
        from shebao.campaigns.services import (
            campaign_old_cards_cancel,
            phase_applications_create,
            phase_transfers_refetch,
        )
        from shebao.core.errors import DomainError

        actor = User.objects.filter(username=options["username"], is_active=True).first()
        if actor is None:
            raise CommandError(f"用户“{options['username']}”不存在或已停用")
        action, pk = options["action"], options["object_id"]
        try:
            if action == "cancel-old":
                campaign = Campaign.objects.filter(pk=pk).first()
                if campaign is None:
                    raise CommandError(f"换卡活动 {pk} 不存在")
                result = campaign_old_cards_cancel(campaign=campaign, actor=actor)
                text = f"{campaign.name}：已注销 {result.cancelled} 张原卡"
                if result.left:
                    text += f"；另有 {result.left} 张（如临时挂失）须逐张办理"
                self.stdout.write(text)
                return
            phase = CampaignPhase.objects.select_related("campaign", "outlet").filter(pk=pk).first()
            if phase is None:
                raise CommandError(f"换卡阶段 {pk} 不存在")
            if action == "apply":
                made = phase_applications_create(phase=phase, actor=actor, progress=_Progress(self))
                self.stdout.write(f"{phase}：已申领 {made} 张新卡")
            else:
                asked, done = phase_transfers_refetch(phase=phase, actor=actor, progress=_Progress(self))
                self.stdout.write(f"{phase}：已再次获取 {asked} 条，{done} 条已转移，{asked - done} 条仍无余额")
        except DomainError as exc:
            raise CommandError(exc.message) from exc

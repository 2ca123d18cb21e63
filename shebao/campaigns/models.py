"""Card-generation replacement campaigns (换代换卡, the 文登 flow).

A campaign replaces one generation of cards with the next in a region. It runs in phases by month and
target group; people are assigned to one phase each. The old card keeps working until the campaign's
transition end date, then it is expected to be cancelled. When the new card's social function is
enabled (any channel), the old card's medical function stops and a balance transfer is opened in the
same transaction; the medical system's balance completes it after commit. Where the medical system has
no balance, a clerk records it and a supervisor confirms it (maker-checker).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Campaign(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", "换卡进行中"
        CLOSED = "closed", "过渡期已结束"

    name = models.CharField("批次名称", max_length=100)
    region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="+", verbose_name="统筹区"
    )
    bank = models.ForeignKey(
        "orgs.Bank",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="承办银行",
    )
    old_generation = models.PositiveSmallIntegerField("原卡代别", default=1)
    new_generation = models.PositiveSmallIntegerField("新卡代别", default=2)
    transition_end = models.DateField("过渡期截止日", help_text="此日之前原卡与新卡均可正常使用")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.RUNNING)
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "换卡批次"
        verbose_name_plural = "换卡批次"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="campaign_generations_ascend", condition=Q(new_generation__gt=models.F("old_generation"))
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Only forward: a closed campaign stays closed.
CAMPAIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    Campaign.State.RUNNING: frozenset({Campaign.State.CLOSED}),
    Campaign.State.CLOSED: frozenset(),
}


class TargetGroup(models.TextChoices):
    UNIT_PROXY = "unit_proxy", "单位代领（名单内单位退休人员）"
    SMALL_ENTERPRISE = "small_enterprise", "个体工商户、小微企业、倒闭企业退休人员自领"
    CUSTODIAL = "custodial", "托管退休人员"
    URBAN_RESIDENT = "urban_resident", "老城镇居民医保退休人员"
    SWEEP = "sweep", "未领卡人员通知扫尾"


class CampaignPhase(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="phases")
    month = models.PositiveIntegerField("月份（YYYYMM）")
    group = models.CharField("对象", max_length=20, choices=TargetGroup.choices)
    outlet = models.ForeignKey(
        "orgs.Outlet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="领卡地点",
    )
    units = models.ManyToManyField("orgs.Employer", blank=True, related_name="+", verbose_name="代领单位名单")
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "换卡阶段"
        verbose_name_plural = "换卡阶段"
        ordering = ["campaign", "month", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "month", "group"], name="campaign_phase_unique"),
            models.CheckConstraint(
                name="campaign_phase_month_valid", condition=Q(month__gte=190001, month__lte=220012)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month // 100}年{self.month % 100}月 {self.get_group_display()}"


class CampaignMember(models.Model):
    """One person to receive a new card in a campaign, in one phase, with the old card being replaced."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="members")
    phase = models.ForeignKey(CampaignPhase, on_delete=models.PROTECT, related_name="members")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    old_card = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, related_name="+", verbose_name="原卡"
    )
    assigned_at = models.DateTimeField("分配时间")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "换卡人员"
        verbose_name_plural = "换卡人员"
        ordering = ["phase", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "person"], name="campaign_member_once"),
        ]
        indexes = [models.Index(fields=["phase", "person"], name="campaign_member_phase_idx")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.phase}"


class MedicalTransfer(models.Model):
    """The old card's medical-account balance moving to the new card.

    Opened automatically when the new card's social function is enabled: from then on the old card's
    medical function has stopped (`old_medical_stopped_at`). The balance comes from the medical system
    (`source` 医保系统, straight to done) or, where the system has none, from a clerk and a supervisor
    (pending → requested → done; a rejected entry is recorded again as a new row).
    """

    class State(models.TextChoices):
        PENDING = "pending", "待录入余额"
        REQUESTED = "requested", "待复核"
        DONE = "done", "已转移"
        REJECTED = "rejected", "已退回"

    class Source(models.TextChoices):
        MEDICAL_SYSTEM = "medical_system", "医保系统"
        CLERK = "clerk", "经办录入"

    member = models.ForeignKey(CampaignMember, on_delete=models.PROTECT, related_name="transfers")
    old_card = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, related_name="+", verbose_name="原卡"
    )
    new_card = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, related_name="+", verbose_name="新卡"
    )
    amount = models.DecimalField("医保个人账户余额", max_digits=12, decimal_places=2, null=True, blank=True)
    source = models.CharField("余额来源", max_length=20, choices=Source.choices, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.REQUESTED)
    # Null when the social function was enabled by a system actor (a file, a job).
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("登记时间")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    reject_reason = models.CharField("退回原因", max_length=200, blank=True)
    old_medical_stopped_at = models.DateTimeField("原卡医保功能停用时间", null=True, blank=True)

    class Meta:
        verbose_name = "医保个人账户余额转移"
        verbose_name_plural = "医保个人账户余额转移"
        ordering = ["-requested_at", "-id"]
        constraints = [
            # One open or completed transfer per person and campaign; a rejected one may be redone.
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(state__in=["pending", "requested", "done"]),
                name="medical_transfer_one_live",
            ),
            models.CheckConstraint(name="medical_transfer_amount_not_negative", condition=Q(amount__gte=0)),
            models.CheckConstraint(
                name="medical_transfer_amount_unless_pending",
                condition=Q(state="pending") | Q(amount__isnull=False),
            ),
            models.CheckConstraint(
                name="medical_transfer_done_is_stopped",
                condition=~Q(state__in=["pending", "done"]) | Q(old_medical_stopped_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.person} {self.amount if self.amount is not None else self.get_state_display()}"


MEDICAL_TRANSFER_TRANSITIONS: dict[str, frozenset[str]] = {
    MedicalTransfer.State.PENDING: frozenset({MedicalTransfer.State.REQUESTED, MedicalTransfer.State.DONE}),
    MedicalTransfer.State.REQUESTED: frozenset({MedicalTransfer.State.DONE, MedicalTransfer.State.REJECTED}),
    MedicalTransfer.State.DONE: frozenset(),
    MedicalTransfer.State.REJECTED: frozenset(),
}

"""Benefit payment: benefit types, entitlements with effective-dated amounts, payrolls, payment lines,
bank files and bank return files.

Money that leaves the centre is protected by the database: a normal payment line is unique per
person × benefit type × period, a bank file is unique per payroll × bank and per batch number, and a
return file is unique per checksum and per bank file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


def _period_check(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        name=name, condition=Q(**{f"{field}__gte": 190001, f"{field}__lte": 220012})
    )


class BenefitType(models.Model):
    """A kind of benefit the centre pays (养老金, 工伤定期待遇…); seeded by a data migration."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", "按月发放"
        ONE_OFF = "one_off", "一次性发放"

    code = models.CharField("待遇代码", max_length=16, unique=True)
    name = models.CharField("待遇名称", max_length=50)
    payer_code = models.CharField("付款单位编号", max_length=32)
    kind = models.CharField("发放方式", max_length=10, choices=Kind.choices)
    card_from_period = models.PositiveIntegerField(
        "社保卡发放起始期", null=True, blank=True, help_text="自该期起通过社保卡金融账户发放（分险种推进）"
    )
    sort_order = models.PositiveSmallIntegerField("排序", default=0)

    class Meta:
        verbose_name = "待遇类型"
        verbose_name_plural = "待遇类型"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Entitlement(models.Model):
    """A person's right to one benefit type. Amounts live in EntitlementAmount rows (effective-dated)."""

    class State(models.TextChoices):
        ACTIVE = "active", "正常"
        SUSPENDED = "suspended", "暂停"
        TERMINATED = "terminated", "终止"

    class Reason(models.TextChoices):
        NO_SURVIVAL_PROOF = "1201", "未提供生存证明（未认证）"
        IMPRISONED = "1202", "服刑"
        SUSPEND_OTHER = "1299", "其他暂停原因"
        DEATH = "1401", "死亡"
        SETTLED_ABROAD = "1406", "出国（境）定居"
        JOINED_EMPLOYEE_SCHEME = "1407", "转入职工养老保险"
        TERMINATE_OTHER = "1499", "其他终止原因"

    SUSPEND_REASONS = frozenset({"1201", "1202", "1299"})
    TERMINATE_REASONS = frozenset({"1401", "1406", "1407", "1499"})

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="entitlements")
    benefit_type = models.ForeignKey(BenefitType, on_delete=models.PROTECT, related_name="entitlements")
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.ACTIVE)
    reason = models.CharField("状态原因", max_length=4, choices=Reason.choices, blank=True)
    from_period = models.PositiveIntegerField("起始期")
    to_period = models.PositiveIntegerField("终止期", null=True, blank=True)
    # A suspension takes effect from this period (overdue certification: the next month).
    suspended_from = models.PositiveIntegerField("暂停起始期", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "待遇资格"
        verbose_name_plural = "待遇资格"
        ordering = ["person", "benefit_type"]
        indexes = [models.Index(fields=["benefit_type", "state"], name="entitlement_type_state_idx")]
        constraints = [
            # One live entitlement per person and benefit type; terminated ones stay as history.
            models.UniqueConstraint(
                fields=["person", "benefit_type"],
                condition=~Q(state="terminated"),
                name="entitlement_one_live_per_type",
            ),
            models.CheckConstraint(
                name="entitlement_reason_matches_state",
                condition=Q(state="active", reason="")
                | Q(state="suspended", reason__in=["1201", "1202", "1299"])
                | Q(state="terminated", reason__in=["1401", "1406", "1407", "1499"]),
            ),
            _period_check("from_period", "entitlement_from_is_period"),
            models.CheckConstraint(
                name="entitlement_to_after_from",
                condition=Q(to_period__isnull=True) | Q(to_period__gte=F("from_period")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} {self.benefit_type.name}"


ENTITLEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    Entitlement.State.ACTIVE: frozenset({Entitlement.State.SUSPENDED, Entitlement.State.TERMINATED}),
    Entitlement.State.SUSPENDED: frozenset({Entitlement.State.ACTIVE, Entitlement.State.TERMINATED}),
    Entitlement.State.TERMINATED: frozenset(),
}


class EntitlementAmount(models.Model):
    """One row of an entitlement's amount history; an amount change is a new row, never an update.

    The amount for period P is the row with the greatest valid_from <= P (ties: the latest row).
    """

    entitlement = models.ForeignKey(Entitlement, on_delete=models.CASCADE, related_name="amounts")
    amount = models.DecimalField("月待遇金额", max_digits=14, decimal_places=2)
    valid_from = models.PositiveIntegerField("起始期")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "待遇金额"
        verbose_name_plural = "待遇金额"
        ordering = ["entitlement", "valid_from", "id"]
        indexes = [models.Index(fields=["entitlement", "valid_from"], name="ent_amount_from_idx")]
        constraints = [
            models.CheckConstraint(name="ent_amount_positive", condition=Q(amount__gt=0)),
            _period_check("valid_from", "ent_amount_from_is_period"),
        ]

    def __str__(self) -> str:
        return f"{self.valid_from}: {self.amount}"


class Payroll(models.Model):
    """One monthly payroll (发放批次) per region, period and benefit type, plus any number of
    second-payment (二次支付) batches for the failures resolved since."""

    class Kind(models.TextChoices):
        NORMAL = "normal", "正常发放"
        REPAYMENT = "repayment", "二次支付"

    class State(models.TextChoices):
        DRAFT = "draft", "草稿"
        APPROVED = "approved", "已复核"
        FILED = "filed", "已报盘"
        RECONCILED = "reconciled", "已对账"

    region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="+", verbose_name="统筹区"
    )
    period = models.PositiveIntegerField("发放期")
    benefit_type = models.ForeignKey(BenefitType, on_delete=models.PROTECT, related_name="payrolls")
    kind = models.CharField("批次类型", max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.DRAFT)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="制表人"
    )
    prepared_at = models.DateTimeField("制表时间")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="复核人",
    )
    approved_at = models.DateTimeField("复核时间", null=True, blank=True)
    # Snapshot at approval: the lines must still add up to it at every later step.
    control_count = models.PositiveIntegerField("复核笔数", null=True, blank=True)
    control_total = models.DecimalField("复核金额", max_digits=14, decimal_places=2, null=True, blank=True)
    filed_at = models.DateTimeField("报盘时间", null=True, blank=True)
    reconciled_at = models.DateTimeField("对账完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "待遇发放表"
        verbose_name_plural = "待遇发放表"
        ordering = ["-period", "benefit_type__sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "period", "benefit_type"],
                condition=Q(kind="normal"),
                name="payroll_unique_period_type",
            ),
            _period_check("period", "payroll_period_is_period"),
            # Maker-checker in the database too: the approver is never the preparer.
            models.CheckConstraint(
                name="payroll_approver_not_preparer",
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
            ),
        ]

    def __str__(self) -> str:
        suffix = "（二次支付）" if self.kind == self.Kind.REPAYMENT else ""
        return f"{self.period} {self.benefit_type.name}{suffix}"

    @property
    def is_frozen(self) -> bool:
        return self.state != self.State.DRAFT

    @property
    def is_sent(self) -> bool:
        """Its bank files have gone out (filed, or reconciled since): lines are numbered for good."""
        return self.state in PAYROLL_SENT_STATES


# The states of a payroll whose bank files have gone to the bank.
PAYROLL_SENT_STATES = (Payroll.State.FILED, Payroll.State.RECONCILED)

PAYROLL_TRANSITIONS: dict[str, frozenset[str]] = {
    Payroll.State.DRAFT: frozenset({Payroll.State.APPROVED}),
    Payroll.State.APPROVED: frozenset({Payroll.State.FILED}),
    Payroll.State.FILED: frozenset({Payroll.State.RECONCILED}),
    Payroll.State.RECONCILED: frozenset(),
}


class FailureReason(models.TextChoices):
    """One failure taxonomy for every bank; each layout maps its own reason codes onto it."""

    NAME_MISMATCH = "name_mismatch", "户名不符"
    NO_ACCOUNT = "no_account", "账号不存在"
    CLOSED = "closed", "已销户"
    LOST = "lost", "挂失"
    FROZEN = "frozen", "冻结"
    CARD_REPLACING = "card_replacing", "换卡中"
    NO_CREDIT = "no_credit", "只进不出/非结算户"
    ABNORMAL = "abnormal", "状态异常"
    OTHER = "other", "其他"


class FiledBankFiles(models.Manager["BankFile"]):
    """Only files that have gone out (the default: pages, downloads, return imports, reconciliation)."""

    def get_queryset(self) -> models.QuerySet[BankFile]:
        return super().get_queryset().filter(filed_at__isnull=False)


class AllBankFiles(models.Manager["BankFile"]):
    """Drafts included: the payments services that make and number the files."""


class BankFile(models.Model):
    """One disbursement file (代发文件): one per bank per payroll, rendered from the frozen lines.

    The row exists from the payroll's generation, so that the lines are numbered (``bank_file``,
    ``seq``) by the same INSERT that makes them; until the payroll is filed it is a draft (``filed_at``
    empty) that ``BankFile.objects`` and ``payroll.bank_files`` do not show. Filing closes the gaps that
    held or removed lines left, renders the file and records its hash, totals and business date.
    """

    payroll = models.ForeignKey(Payroll, on_delete=models.PROTECT, related_name="bank_files")
    bank = models.ForeignKey("orgs.Bank", on_delete=models.PROTECT, related_name="+", verbose_name="银行")
    layout = models.CharField("文件格式", max_length=20)
    batch_no = models.CharField("批次号", max_length=32, unique=True)
    business_date = models.DateField("业务日期", null=True, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64)
    control_count = models.PositiveIntegerField("总笔数")
    control_total = models.DecimalField("总金额", max_digits=14, decimal_places=2)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)
    filed_at = models.DateTimeField("报盘时间", null=True, blank=True)

    objects = FiledBankFiles()
    all_objects = AllBankFiles()

    class Meta:
        verbose_name = "代发文件"
        verbose_name_plural = "代发文件"
        ordering = ["payroll", "bank__code"]
        constraints = [models.UniqueConstraint(fields=["payroll", "bank"], name="bank_file_one_per_bank")]
        base_manager_name = "all_objects"

    def __str__(self) -> str:
        return self.batch_no

    @property
    def is_filed(self) -> bool:
        return self.filed_at is not None


class PaymentLine(models.Model):
    """One payment to one person for one period. Amount and account are frozen once the payroll is approved."""

    class Kind(models.TextChoices):
        NORMAL = "normal", "正常发放"
        BACK_PAY = "back_pay", "补发"
        REPAYMENT = "repayment", "二次支付"
        # The difference for a month already paid at an older amount (a backdated raise): 补差.
        ARREARS = "arrears", "补差"

    class State(models.TextChoices):
        PENDING = "pending", "待发放"
        HELD = "held", "暂缓发放"
        PAID = "paid", "已发放"
        FAILED = "failed", "发放失败"

    # No single-column index on payroll, bank_file or original: line_payroll_bank_state_idx,
    # line_unique_seq_in_file and line_repaid_once lead with them. Every index is rewritten for every
    # line the filing numbers (a changed indexed column rules out PostgreSQL's HOT update).
    payroll = models.ForeignKey(Payroll, on_delete=models.PROTECT, related_name="lines", db_index=False)
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="payment_lines")
    benefit_type = models.ForeignKey(BenefitType, on_delete=models.PROTECT, related_name="+")
    period = models.PositiveIntegerField("待遇所属期")
    amount = models.DecimalField("金额", max_digits=14, decimal_places=2)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    account = models.ForeignKey(
        "people.PaymentAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bank = models.ForeignKey(
        "orgs.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="银行"
    )
    account_no = models.CharField("银行账号", max_length=19, blank=True)
    account_name = models.CharField("账户户名", max_length=50, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    hold_code = models.CharField("暂缓代码", max_length=30, blank=True)
    hold_reason = models.CharField("暂缓原因", max_length=200, blank=True)
    failure_code = models.CharField("失败原因", max_length=20, choices=FailureReason.choices, blank=True)
    failure_text = models.CharField("银行返回说明", max_length=200, blank=True)
    bank_file = models.ForeignKey(
        BankFile, null=True, blank=True, on_delete=models.PROTECT, related_name="lines", db_index=False
    )
    seq = models.PositiveIntegerField("文件序号", null=True, blank=True)
    # Set when the pre-flight paid the line into the person's previous account (new card not usable).
    route_note = models.CharField("改付说明", max_length=200, blank=True)
    original = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repayments",
        verbose_name="原明细",
        db_index=False,
    )

    class Meta:
        verbose_name = "发放明细"
        verbose_name_plural = "发放明细"
        ordering = ["payroll", "id"]
        indexes = [
            models.Index(fields=["payroll", "bank", "state"], name="line_payroll_bank_state_idx"),
            models.Index(fields=["state", "failure_code"], name="line_state_failure_idx"),
            # The few pending lines not yet numbered into a file (back pay, second payments, lines
            # released or routed after generation): what filing has to place. Lines numbered at
            # generation are not in it, so it costs the generation nothing.
            models.Index(
                fields=["payroll"],
                condition=Q(state="pending", bank_file__isnull=True),
                name="line_unfiled_pending_idx",
            ),
        ]
        constraints = [
            # Nothing is paid twice: one normal line per person, benefit type and period, whatever payroll.
            # Nothing is paid twice: a month of a benefit is paid by one normal or one back-pay line,
            # whatever the payroll (second payments point at the failed line they replace instead).
            models.UniqueConstraint(
                fields=["person", "benefit_type", "period"],
                condition=Q(kind__in=["normal", "back_pay"]),
                name="line_month_paid_once",
            ),
            models.UniqueConstraint(fields=["bank_file", "seq"], name="line_unique_seq_in_file"),
            # A failed line is paid again at most once (if that fails too, the new line is resolved in turn).
            models.UniqueConstraint(
                fields=["original"], condition=Q(original__isnull=False), name="line_repaid_once"
            ),
            models.CheckConstraint(
                name="line_repayment_has_original",
                condition=Q(kind="repayment", original__isnull=False) | ~Q(kind="repayment"),
            ),
            models.CheckConstraint(name="line_amount_positive", condition=Q(amount__gt=0)),
            models.CheckConstraint(
                name="line_failure_only_when_failed",
                condition=Q(state="failed") & ~Q(failure_code="") | ~Q(state="failed") & Q(failure_code=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.period} {self.amount}"

    @property
    def sent_file(self) -> BankFile | None:
        """The bank file that carried this line to the bank (None before the payroll is filed)."""
        bank_file = self.bank_file
        return bank_file if bank_file is not None and bank_file.is_filed else None


class Resolution(models.Model):
    """How a failed (or held) line is to be paid again, decided by a clerk after checking with the person.

    The account of the second payment is copied here when the clerk resolves the line, so the
    repayment batch pays exactly what the clerk saw and approved.
    """

    class Kind(models.TextChoices):
        NAME_VERIFIED = "name_verified", "核实户名（登记白名单）"
        NEW_ACCOUNT = "new_account", "新卡/新账户已启用，按新账户支付"
        ALTERNATE = "alternate", "按本人另行提供的账户支付"
        # 佛山: a lost or replaced card's month may go to the old account while it is still usable.
        OLD_ACCOUNT = "old_account", "按原账户支付（挂失/换卡期间）"

    line = models.OneToOneField(PaymentLine, on_delete=models.PROTECT, related_name="resolution")
    kind = models.CharField("处理方式", max_length=20, choices=Kind.choices)
    bank = models.ForeignKey("orgs.Bank", on_delete=models.PROTECT, related_name="+", verbose_name="银行")
    account_no = models.CharField("银行账号", max_length=19)
    account_name = models.CharField("账户户名", max_length=50)
    proof = models.CharField("凭证", max_length=200, blank=True)
    note = models.CharField("核实说明", max_length=200, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField("处理时间", auto_now_add=True)

    class Meta:
        verbose_name = "失败处理"
        verbose_name_plural = "失败处理"
        constraints = [
            models.CheckConstraint(
                name="resolution_alternate_has_proof", condition=~Q(kind="alternate") | ~Q(proof="")
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class CardWait(models.Model):
    """等待新卡: the clerk checked a failed line with the person (lost or replaced card) and the payment
    waits for the new card's account. The line stays in the failure queue, marked, until it is resolved."""

    line = models.OneToOneField(PaymentLine, on_delete=models.PROTECT, related_name="card_wait")
    note = models.CharField("说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "等待新卡"
        verbose_name_plural = "等待新卡"

    def __str__(self) -> str:
        return f"{self.line_id} 等待新卡"


class NameWhitelist(models.Model):
    """白名单: a spelling of the person's name that the bank accepts (rare characters, minority names)."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="name_whitelist")
    spelling = models.CharField("银行认可户名", max_length=50)
    note = models.CharField("核实说明", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    # Maker-checker: a spelling counts (and releases held lines) only once a supervisor other than the
    # clerk who recorded it confirms it. Null: waiting for confirmation.
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "户名白名单"
        verbose_name_plural = "户名白名单"
        constraints = [
            models.UniqueConstraint(fields=["person", "spelling"], name="whitelist_unique_spelling"),
            models.CheckConstraint(
                name="whitelist_checker_not_maker",
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("created_by")),
            ),
        ]

    def __str__(self) -> str:
        return self.spelling

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class ReturnFile(models.Model):
    """A bank return file (回盘) that was applied. Its checksum makes a second import a no-op."""

    bank_file = models.OneToOneField(BankFile, on_delete=models.PROTECT, related_name="return_file")
    file_name = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    ok_count = models.PositiveIntegerField("成功笔数")
    ok_amount = models.DecimalField("成功金额", max_digits=14, decimal_places=2)
    fail_count = models.PositiveIntegerField("失败笔数")
    fail_amount = models.DecimalField("失败金额", max_digits=14, decimal_places=2)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "回盘文件"
        verbose_name_plural = "回盘文件"
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.file_name


class Overpayment(models.Model):
    """Money paid for a month the person was no longer owed (a month after death): tracked until the
    family refunds it or it is offset against what the family is paid (丧葬补助金、抚恤金)."""

    class State(models.TextChoices):
        OPEN = "open", "待追回"
        REFUNDED = "refunded", "已退回"
        OFFSET = "offset", "已抵扣"
        # The death that made the month an overpayment was corrected (wrong person or date).
        CANCELLED = "cancelled", "已撤销"

    line = models.OneToOneField(PaymentLine, on_delete=models.PROTECT, related_name="overpayment")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="overpayments")
    amount = models.DecimalField("多发金额", max_digits=14, decimal_places=2)
    reason = models.CharField("原因", max_length=200)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OPEN)
    reference = models.CharField("退款/抵扣凭证", max_length=100, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    settled_at = models.DateTimeField("办结时间", null=True, blank=True)
    created_at = models.DateTimeField("发现时间", auto_now_add=True)

    class Meta:
        verbose_name = "多发待遇"
        verbose_name_plural = "多发待遇"
        ordering = ["state", "-created_at"]
        constraints = [models.CheckConstraint(name="overpayment_positive", condition=Q(amount__gt=0))]

    def __str__(self) -> str:
        return f"{self.person_id} {self.amount}"


OVERPAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    Overpayment.State.OPEN: frozenset(
        {Overpayment.State.REFUNDED, Overpayment.State.OFFSET, Overpayment.State.CANCELLED}
    ),
    Overpayment.State.REFUNDED: frozenset(),
    Overpayment.State.OFFSET: frozenset(),
    Overpayment.State.CANCELLED: frozenset(),
}


class Certification(models.Model):
    """待遇资格认证: proof that a recipient is alive and entitled, once per rolling 12 months."""

    class Channel(models.TextChoices):
        COUNTER = "counter", "经办窗口"
        MOBILE_APP = "mobile_app", "手机APP（人脸识别）"
        TERMINAL = "terminal", "自助终端"
        HOME_VISIT = "home_visit", "上门认证"
        DATA_MATCH = "data_match", "数据比对（静默认证）"

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="certifications")
    certified_on = models.DateField("认证日期")
    channel = models.CharField("认证渠道", max_length=12, choices=Channel.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "待遇资格认证"
        verbose_name_plural = "待遇资格认证"
        ordering = ["person", "-certified_on", "-id"]
        indexes = [models.Index(fields=["person", "certified_on"], name="certification_person_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.certified_on}"


class BackPay(models.Model):
    """Months owed again: after a suspension ends (certified late), after a death recorded by mistake is
    corrected, or after an amount change backdated into months already paid. Settled in the next
    payroll of the benefit type as separate lines: a back-pay line for a month not paid at all, an
    arrears line (补差) with the difference for a month paid at less than is owed now."""

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="back_pays")
    from_period = models.PositiveIntegerField("补发起始期")
    to_period = models.PositiveIntegerField("补发截止期")
    reason = models.CharField("原因", max_length=200)
    payroll = models.ForeignKey(
        Payroll,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="back_pays",
        verbose_name="补发批次",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "待遇补发"
        verbose_name_plural = "待遇补发"
        constraints = [
            models.CheckConstraint(name="back_pay_range", condition=Q(to_period__gte=F("from_period"))),
        ]

    def __str__(self) -> str:
        return f"{self.from_period}-{self.to_period}"


class EntitlementChange(models.Model):
    """A change to an entitlement asked for by a clerk (maker) and applied only when a supervisor other
    than the maker approves it (checker)."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", "调整金额"
        SUSPEND = "suspend", "暂停发放"
        RESUME = "resume", "恢复发放"
        TERMINATE = "terminate", "终止待遇"

    class State(models.TextChoices):
        PENDING = "pending", "待复核"
        APPROVED = "approved", "已复核生效"
        REJECTED = "rejected", "已退回"

    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField("变更类型", max_length=10, choices=Kind.choices)
    amount = models.DecimalField("新金额", max_digits=14, decimal_places=2, null=True, blank=True)
    period = models.PositiveIntegerField("生效期", null=True, blank=True)
    reason = models.CharField("原因代码", max_length=4, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    decision_note = models.CharField("复核意见", max_length=200, blank=True)

    class Meta:
        verbose_name = "待遇变更申请"
        verbose_name_plural = "待遇变更申请"
        ordering = ["state", "-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement"], condition=Q(state="pending"), name="entitlement_change_one_pending"
            ),
            models.CheckConstraint(
                name="entitlement_change_checker_not_maker",
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entitlement_id} {self.get_kind_display()}"


class EntitlementImport(models.Model):
    """An entitlement file checked and waiting for a supervisor other than the importer (maker-checker):
    its rows create entitlements and change amounts only when approved."""

    class State(models.TextChoices):
        PENDING = "pending", "待复核"
        APPROVED = "approved", "已复核生效"
        REJECTED = "rejected", "已退回"

    file_name = models.CharField("文件名", max_length=255)
    checksum = models.CharField("SHA-256", max_length=64, unique=True)
    row_count = models.PositiveIntegerField("行数")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    created_count = models.PositiveIntegerField("新增", default=0)
    changed_count = models.PositiveIntegerField("调整金额", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    decision_note = models.CharField("复核意见", max_length=200, blank=True)

    class Meta:
        verbose_name = "待遇资格导入"
        verbose_name_plural = "待遇资格导入"
        ordering = ["state", "-imported_at"]
        constraints = [
            models.CheckConstraint(
                name="entitlement_import_checker_not_maker",
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("imported_by")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.row_count}行）"


class EntitlementImportRow(models.Model):
    """One checked row of a pending entitlement file."""

    batch = models.ForeignKey(EntitlementImport, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField("行号")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    benefit_type = models.ForeignKey(BenefitType, on_delete=models.PROTECT, related_name="+")
    from_period = models.PositiveIntegerField("起始期")
    to_period = models.PositiveIntegerField("终止期", null=True, blank=True)
    amount = models.DecimalField("月待遇金额", max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = "待遇资格导入行"
        verbose_name_plural = "待遇资格导入行"
        ordering = ["batch", "row"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row}"


ENTITLEMENT_IMPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    EntitlementImport.State.PENDING: frozenset(
        {EntitlementImport.State.APPROVED, EntitlementImport.State.REJECTED}
    ),
    EntitlementImport.State.APPROVED: frozenset(),
    EntitlementImport.State.REJECTED: frozenset(),
}


class SurvivorClaim(models.Model):
    """丧葬补助金和抚恤金: the one-off payments to the family of an insured person who died, computed by
    人社部发〔2021〕18号 from the inputs recorded here, and paid to one family member through two one-off
    entitlements (types FUNERAL and SURVIVOR) that go through the normal payroll, approval and bank file."""

    class Relation(models.TextChoices):
        SPOUSE = "spouse", "配偶"
        CHILD = "child", "子女"
        PARENT = "parent", "父母"
        OTHER = "other", "其他直系亲属"

    class State(models.TextChoices):
        PENDING = "pending", "待复核"
        APPROVED = "approved", "已复核"
        REJECTED = "rejected", "已退回"

    deceased = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="survivor_claims", verbose_name="死亡人员"
    )
    recipient = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", verbose_name="领取人"
    )
    relation = models.CharField("与死亡人员关系", max_length=10, choices=Relation.choices)
    account = models.ForeignKey(
        "people.PaymentAccount", on_delete=models.PROTECT, related_name="+", verbose_name="领取账户"
    )
    base_monthly_income = models.DecimalField(
        "上年度城镇居民月人均可支配收入", max_digits=14, decimal_places=2
    )
    contribution_months = models.PositiveIntegerField("累计缴费月数")
    pension_months = models.PositiveIntegerField("已领取养老金月数", default=0)
    funeral_grant = models.DecimalField("丧葬补助金", max_digits=14, decimal_places=2)
    survivor_months = models.DecimalField("抚恤金月数", max_digits=6, decimal_places=2)
    survivor_pension = models.DecimalField("抚恤金", max_digits=14, decimal_places=2)
    offset_amount = models.DecimalField("抵扣多发待遇", max_digits=14, decimal_places=2, default=0)
    period = models.PositiveIntegerField("发放期")
    funeral_entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    survivor_entitlement = models.ForeignKey(
        Entitlement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Maker-checker: the entitlements are granted (and overpayments offset) only when a supervisor
    # other than the clerk who recorded the claim approves it.
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    decision_note = models.CharField("复核意见", max_length=200, blank=True)

    class Meta:
        verbose_name = "丧葬补助金和抚恤金"
        verbose_name_plural = "丧葬补助金和抚恤金"
        ordering = ["-created_at"]
        constraints = [
            # One claim per deceased person; a claim sent back may be recorded again.
            models.UniqueConstraint(
                fields=["deceased"], condition=~Q(state="rejected"), name="survivor_claim_one_per_deceased"
            ),
            models.CheckConstraint(
                name="survivor_claim_checker_not_maker",
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("created_by")),
            ),
            models.CheckConstraint(name="survivor_claim_not_self", condition=~Q(recipient=F("deceased"))),
            models.CheckConstraint(name="survivor_claim_offset", condition=Q(offset_amount__gte=0)),
            _period_check("period", "survivor_claim_period"),
        ]

    def __str__(self) -> str:
        return f"{self.deceased_id} → {self.recipient_id}"

    @property
    def total(self):  # type: ignore[no-untyped-def]
        return self.funeral_grant + self.survivor_pension - self.offset_amount


SURVIVOR_CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    SurvivorClaim.State.PENDING: frozenset({SurvivorClaim.State.APPROVED, SurvivorClaim.State.REJECTED}),
    SurvivorClaim.State.APPROVED: frozenset(),
    SurvivorClaim.State.REJECTED: frozenset(),
}

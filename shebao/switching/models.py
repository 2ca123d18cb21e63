"""Switching benefit payment to the card's bank account.

Comparison (比对) of the benefit system with a card-system extract, the rollout policy as data,
verification forms (核实反馈表) for units and townships, and the account changes they propose.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from shebao.people.models import BenefitCategory


class CardState(models.TextChoices):
    """The card application state as the card system reports it (AAZ502), plus cancelled."""

    NORMAL = "normal", "正常"
    SEALED = "sealed", "封存"
    LOST_FORMAL = "lost_formal", "正式挂失"
    LOCKED = "locked", "应用锁定"
    LOST_TEMPORARY = "lost_temporary", "临时挂失"
    CANCELLED = "cancelled", "注销"
    UNKNOWN = "unknown", "未知"


class CardExtract(models.Model):
    """One card-system extract (a file, or later shebao's own card records). The same file twice is one extract."""

    source = models.CharField("来源", max_length=255)
    checksum = models.CharField("SHA-256", max_length=64, unique=True)
    row_count = models.PositiveIntegerField("记录数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "卡系统数据"
        verbose_name_plural = "卡系统数据"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source}（{self.row_count}条）"


class CardSystemRecord(models.Model):
    """One row of a card-system extract: a person's card and the bank account loaded on it."""

    extract = models.ForeignKey(CardExtract, on_delete=models.CASCADE, related_name="records")
    ssn = models.CharField("社会保障号码", max_length=18)
    name = models.CharField("姓名", max_length=50)
    card_no = models.CharField("社保卡号", max_length=20, blank=True)
    bank_code = models.CharField("银行代码", max_length=16, blank=True)
    bank_account = models.CharField("金融账号", max_length=19, blank=True)
    card_state = models.CharField(
        "卡状态", max_length=16, choices=CardState.choices, default=CardState.NORMAL
    )
    fin_activated = models.BooleanField("金融功能已激活", default=False)
    fin_activated_on = models.DateField("激活日期", null=True, blank=True)
    row_no = models.PositiveIntegerField("行号", default=0)
    # Set once at import (comparison.mark_candidates), so the comparison is one indexed join on the SSN:
    # how many records of the extract carry this SSN, and whether this is the first of them.
    candidates = models.PositiveIntegerField("同号记录数", default=1)
    is_first = models.BooleanField("同号首条", default=True)

    class Meta:
        verbose_name = "卡系统记录"
        verbose_name_plural = "卡系统记录"
        indexes = [models.Index(fields=["extract", "ssn"], name="cardrec_extract_ssn_idx")]

    def __str__(self) -> str:
        return f"{self.name} {self.card_no or '未制卡'}"

    @property
    def has_card(self) -> bool:
        return bool(self.card_no)


class ComparisonRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "比对中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    class Source(models.TextChoices):
        FILE = "file", "卡系统数据文件"
        OWN_CARDS = "own_cards", "本系统社保卡记录"

    region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="+", verbose_name="统筹区"
    )
    extract = models.ForeignKey(
        CardExtract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="runs",
        verbose_name="卡系统数据",
    )
    source_description = models.CharField("卡系统数据来源", max_length=255)
    # own_cards: every (re)run takes a fresh snapshot of shebao's card records.
    source_kind = models.CharField("数据来源类型", max_length=10, choices=Source.choices, default=Source.FILE)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.QUEUED)
    message = models.CharField("说明", max_length=500, blank=True)
    # A finished run is a snapshot: the counts are those of its results when it finished.
    counts = models.JSONField("各类人数", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "比对批次"
        verbose_name_plural = "比对批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"比对#{self.pk} {self.source_description}"

    @property
    def total(self) -> int:
        return sum(int(v) for v in (self.counts or {}).values())


class ComparisonClass(models.TextChoices):
    MATCHED_ACTIVATED = "matched_activated", "比对成功，已制卡并激活金融功能"
    MATCHED_NOT_ACTIVATED = "matched_not_activated", "比对成功，已制卡未激活"
    MATCHED_NO_CARD = "matched_no_card", "比对成功，尚未制卡"
    NOT_MATCHED = "not_matched", "比对不成功"


class ComparisonReason(models.TextChoices):
    NONE = "", "—"
    NAME_NORMALISED = "name_normalised", "姓名写法不同，规范化后一致"
    NOT_ACTIVATED = "not_activated", "金融功能未激活"
    CARD_NOT_USABLE = "card_not_usable", "卡片挂失、锁定、封存或注销"
    SSN_UNKNOWN = "ssn_unknown", "卡系统中无此社会保障号码"
    NAME_DIFFERS = "name_differs", "姓名不一致"
    SEVERAL_CANDIDATES = "several_candidates", "卡系统中有多条记录"


class ComparisonResult(models.Model):
    # A run writes one row per beneficiary (millions) in one INSERT … SELECT, so this snapshot table carries
    # one index and no database FK constraints, not even to the run (PostgreSQL checks every deferred FK row
    # at commit: 0.45 s per 100,000 rows for the run's alone). The one index is the primary key
    # (run, person): a surrogate id would be a second btree maintained row by row during the insert (about a
    # quarter of its time on PostgreSQL, bench/README.md). The rows are written only by comparison_execute
    # under a lock on the run; Django still cascades deletions. On PostgreSQL the table is partitioned by run
    # (migration 0005): each run's rows are one partition, loaded without an index and indexed once afterwards,
    # with a unique index on the person (the run being the partition's one value, that is this key).
    pk = models.CompositePrimaryKey("run", "person")
    run = models.ForeignKey(
        ComparisonRun, on_delete=models.CASCADE, related_name="results", db_index=False, db_constraint=False
    )
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    klass = models.CharField("比对结果", max_length=24, choices=ComparisonClass.choices)
    reason = models.CharField("原因", max_length=24, choices=ComparisonReason.choices, blank=True)
    card_record = models.ForeignKey(
        CardSystemRecord,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    name_in_benefit = models.CharField("业务系统姓名", max_length=50)
    name_in_card = models.CharField("卡系统姓名", max_length=50, blank=True)

    class Meta:
        verbose_name = "比对结果"
        verbose_name_plural = "比对结果"
        # No (run, klass) index: maintaining it cost more than the rest of a million-row run together
        # (bench/README.md); a class of one run is read by walking that run's unique index.

    def __str__(self) -> str:
        return f"{self.name_in_benefit} {self.get_klass_display()}"


class RolloutRule(models.Model):
    """Per benefit category: from which period it is paid through the card, and who switches automatically.

    Whoever does not meet the automatic conditions stays on the old account unless they ask.
    """

    category = models.CharField("人员类别", max_length=30, choices=BenefitCategory.choices)
    pays_from = models.PositiveIntegerField("社保卡发放起始期（YYYYMM）")
    exempt = models.BooleanField("不切换（按原办法发放）", default=False)
    auto_born_on_or_after = models.DateField(
        "自动切换：出生日期不早于",
        null=True,
        blank=True,
        help_text="如 1945-01-01（70周岁以下）；空表示不限年龄",
    )
    requires_activated_card = models.BooleanField("须已激活金融功能", default=True)
    auto_requires_in_region = models.BooleanField("自动切换：须居住在统筹区内", default=False)
    note = models.CharField("依据", max_length=200, blank=True)

    class Meta:
        verbose_name = "社保卡发放推进规则"
        verbose_name_plural = "社保卡发放推进规则"
        ordering = ["category", "pays_from"]
        constraints = [
            models.UniqueConstraint(fields=["category", "pays_from"], name="rollout_rule_once_per_period"),
            models.CheckConstraint(
                name="rollout_pays_from_is_period", condition=Q(pays_from__gte=190001, pays_from__lte=220012)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} 自{self.pays_from}起"


class SwitchPreference(models.Model):
    """A person's own request to switch to the card account or to stay on the old one. The latest counts."""

    class Choice(models.TextChoices):
        SWITCH = "switch", "申请切换到社保卡账户"
        STAY = "stay", "申请维持原账户"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="switch_preferences")
    choice = models.CharField("申请事项", max_length=10, choices=Choice.choices)
    asked_on = models.DateField("申请日期")
    proof_note = models.CharField("申请材料", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "本人申请"
        verbose_name_plural = "本人申请"
        ordering = ["person", "-asked_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_choice_display()} {self.asked_on}"


class VerificationForm(models.Model):
    """核实反馈表 of one employer unit or one township for one period."""

    class State(models.TextChoices):
        GENERATED = "generated", "已生成"
        DOWNLOADED = "downloaded", "已下载"
        RETURNED = "returned", "已报送，待中心经办员审核"
        CHECKED = "checked", "经办员已审核，待复核"
        APPROVED = "approved", "已通过"
        REJECTED = "rejected", "已退回"

    # Maker-checker: the unit's answers are not the centre's work. A centre clerk reviews the returned form
    # and prepares its changes under their own name (CHECKED); a supervisor other than that clerk approves.
    TRANSITIONS: dict[str, frozenset[str]] = {
        State.GENERATED: frozenset({State.DOWNLOADED}),
        State.DOWNLOADED: frozenset({State.RETURNED}),
        State.RETURNED: frozenset({State.CHECKED, State.REJECTED}),
        State.CHECKED: frozenset({State.APPROVED, State.REJECTED}),
        State.REJECTED: frozenset({State.RETURNED}),
        State.APPROVED: frozenset(),
    }

    code = models.CharField("表单编号", max_length=32, unique=True)
    employer = models.ForeignKey(
        "orgs.Employer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="参保单位",
    )
    township = models.ForeignKey(
        "orgs.Township",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="乡镇",
    )
    period_issued = models.PositiveIntegerField("下发期（YYYYMM）")
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.GENERATED)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    generated_at = models.DateTimeField("生成时间", auto_now_add=True)
    downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    downloaded_on = models.DateField("下载日期", null=True, blank=True)
    deadline = models.DateField("报送截止日", null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_on = models.DateField("报送日期", null=True, blank=True)
    return_file = models.FileField("反馈表电子版", upload_to="switching/returns/%Y%m", blank=True)
    return_checksum = models.CharField("反馈表SHA-256", max_length=64, blank=True)
    scan_file = models.FileField("盖章扫描件", upload_to="switching/scans/%Y%m", blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="审核经办员",
    )
    checked_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    review_note = models.CharField("复核意见", max_length=200, blank=True)

    class Meta:
        verbose_name = "核实反馈表"
        verbose_name_plural = "核实反馈表"
        ordering = ["-period_issued", "code"]
        constraints = [
            models.CheckConstraint(
                name="vform_unit_xor_township",
                condition=(
                    Q(employer__isnull=False, township__isnull=True)
                    | Q(employer__isnull=True, township__isnull=False)
                ),
            ),
            models.UniqueConstraint(
                fields=["employer", "period_issued"],
                condition=Q(employer__isnull=False),
                name="vform_one_per_unit_period",
            ),
            models.UniqueConstraint(
                fields=["township", "period_issued"],
                condition=Q(township__isnull=False),
                name="vform_one_per_township_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.org_name} 核实反馈表（{self.code}）"

    @property
    def org_name(self) -> str:
        org = self.employer or self.township
        return org.name if org is not None else ""

    @property
    def org_label(self) -> str:
        return "参保单位" if self.employer_id else "乡镇（街道）"


class VerificationLine(models.Model):
    """One person on a form: a snapshot of what the centre sent, and what the unit answered."""

    class Result(models.TextChoices):
        SWITCHABLE = "switchable", "已核，金融功能已开通，可更换"
        CORRECTED = "corrected", "信息有误已更正"
        NOT_SWITCHABLE = "not_switchable", "暂不能更换"

    form = models.ForeignKey(VerificationForm, on_delete=models.CASCADE, related_name="lines")
    row_no = models.PositiveIntegerField("序号")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    ssn = models.CharField("社会保障号码", max_length=18)
    name = models.CharField("姓名", max_length=50)
    bank_name = models.CharField("现开户银行", max_length=100, blank=True)
    account_no = models.CharField("现银行账号", max_length=19, blank=True)
    account_name = models.CharField("现账户户名", max_length=50, blank=True)
    card_no = models.CharField("社保卡号", max_length=20, blank=True)
    card_bank_code = models.CharField("社保卡银行代码", max_length=16, blank=True)
    card_account = models.CharField("社保卡金融账号", max_length=19, blank=True)
    result = models.CharField("核实结果", max_length=16, choices=Result.choices, blank=True)
    remark = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "核实反馈表明细"
        verbose_name_plural = "核实反馈表明细"
        ordering = ["form", "row_no"]
        constraints = [models.UniqueConstraint(fields=["form", "person"], name="vline_person_once_per_form")]

    def __str__(self) -> str:
        return f"{self.row_no} {self.name}"


class AccountChange(models.Model):
    """A proposed switch of a person's paying account; approved by a supervisor who did not prepare it."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", "待中心经办员审核"
        PREPARED = "prepared", "待复核"
        APPROVED = "approved", "已生效"
        REJECTED = "rejected", "已驳回"

    # A unit's or township's answer arrives SUBMITTED (submitted_by is their clerk); a centre clerk checks it
    # and prepares it under their own name (PREPARED, prepared_by); a supervisor other than them approves.
    OPEN_STATES = ("submitted", "prepared")
    TRANSITIONS: dict[str, frozenset[str]] = {
        State.SUBMITTED: frozenset({State.PREPARED, State.REJECTED}),
        State.PREPARED: frozenset({State.APPROVED, State.REJECTED}),
        State.APPROVED: frozenset(),
        State.REJECTED: frozenset(),
    }

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    form = models.ForeignKey(
        VerificationForm, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    form_line = models.ForeignKey(
        VerificationLine, null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )
    bank = models.ForeignKey("orgs.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    account_no = models.CharField("新银行账号", max_length=19)
    account_name = models.CharField("新账户户名", max_length=50)
    submitted_on = models.DateField("报送日期")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PREPARED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="报送人（单位或乡镇经办员）",
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField("提交时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    decision_note = models.CharField("复核意见", max_length=200, blank=True)
    valid_from = models.PositiveIntegerField("启用期（YYYYMM）", null=True, blank=True)
    payment_account = models.OneToOneField(
        "people.PaymentAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="switch_change"
    )

    class Meta:
        verbose_name = "发放账户变更"
        verbose_name_plural = "发放账户变更"
        ordering = ["-prepared_at", "-id"]
        constraints = [
            # One open proposal per person: two pending switches could both become the paying account.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(state__in=["submitted", "prepared"]),
                name="account_change_one_open_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_name} → {self.account_no[:4]}…{self.account_no[-4:]}"


class SwitchFailure(models.Model):
    """A switched account the bank could not pay into; the case goes back to the unit or township.

    They fix it (a corrected account, a new card) and it goes through approval again.
    """

    class Reason(models.TextChoices):
        NAME_MISMATCH = "name_mismatch", "户名不符"
        LOST = "lost", "挂失"
        REPLACING = "replacing", "换卡中"
        ACCOUNT_CLOSED = "account_closed", "已销户或账号不存在"
        FROZEN = "frozen", "账户冻结或状态异常"
        OTHER = "other", "其他"

    class State(models.TextChoices):
        OPEN = "open", "待单位（乡镇）处理"
        RESUBMITTED = "resubmitted", "已重新报送"

    TRANSITIONS: dict[str, frozenset[str]] = {
        State.OPEN: frozenset({State.RESUBMITTED}),
        State.RESUBMITTED: frozenset(),
    }

    change = models.ForeignKey(AccountChange, on_delete=models.PROTECT, related_name="failures")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    employer = models.ForeignKey(
        "orgs.Employer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        "orgs.Township", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period = models.PositiveIntegerField("发放期（YYYYMM）")
    reason = models.CharField("失败原因", max_length=20, choices=Reason.choices)
    detail = models.CharField("说明", max_length=200, blank=True)
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.OPEN)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField("登记时间", auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    new_change = models.OneToOneField(
        AccountChange, null=True, blank=True, on_delete=models.PROTECT, related_name="fixes_failure"
    )
    # The failed payment the bank's return file reported (empty when a clerk recorded the failure by hand).
    payment_line = models.OneToOneField(
        "payments.PaymentLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="switch_failure",
        verbose_name="发放明细",
    )

    class Meta:
        verbose_name = "切换发放失败"
        verbose_name_plural = "切换发放失败"
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change"], condition=Q(state="open"), name="switch_failure_one_open_per_change"
            ),
            models.CheckConstraint(
                name="switch_failure_has_org", condition=Q(employer__isnull=False) | Q(township__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}（{self.period}）"


class TownshipSubmission(models.Model):
    """A township's monthly submission of its walk-in verifications (by the 15th), with the stamped form."""

    township = models.ForeignKey("orgs.Township", on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_on = models.DateField("报送日期")
    scan_file = models.FileField("盖章反馈表扫描件", upload_to="switching/township/%Y%m")
    created_at = models.DateTimeField("报送时间", auto_now_add=True)

    class Meta:
        verbose_name = "乡镇月度报送"
        verbose_name_plural = "乡镇月度报送"
        ordering = ["-submitted_on", "-id"]

    def __str__(self) -> str:
        return f"{self.township} {self.submitted_on}"


class TownshipIntake(models.Model):
    """A retiree came to the township with card and ID: checked, photographed, reminded to activate."""

    township = models.ForeignKey("orgs.Township", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    card_no = models.CharField("社保卡号", max_length=20)
    bank_name = models.CharField("开户银行", max_length=100, blank=True)
    account_no = models.CharField("社保卡金融账号", max_length=19)
    account_name = models.CharField("户名", max_length=50)
    fin_activated = models.BooleanField("金融功能已开通", default=False)
    card_photo = models.FileField("社保卡照片", upload_to="switching/intake/%Y%m")
    id_photo = models.FileField("身份证正面照片", upload_to="switching/intake/%Y%m")
    note = models.CharField("备注", max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_on = models.DateField("核实日期")
    submission = models.ForeignKey(
        TownshipSubmission, null=True, blank=True, on_delete=models.PROTECT, related_name="intakes"
    )
    change = models.OneToOneField(
        AccountChange, null=True, blank=True, on_delete=models.PROTECT, related_name="township_intake"
    )

    class Meta:
        verbose_name = "乡镇核实登记"
        verbose_name_plural = "乡镇核实登记"
        ordering = ["-recorded_on", "-id"]
        constraints = [
            # One unsubmitted record per person: a second visit updates nothing twice.
            models.UniqueConstraint(
                fields=["person"], condition=Q(submission__isnull=True), name="intake_one_open_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_name} {self.recorded_on}"


class Notice(models.Model):
    """公告 the centre publishes to units and townships (shown on their forms page)."""

    class Audience(models.TextChoices):
        ALL = "all", "单位和乡镇"
        UNITS = "units", "参保单位"
        TOWNSHIPS = "townships", "乡镇（街道）"

    region = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="+")
    title = models.CharField("标题", max_length=100)
    body = models.TextField("正文")
    audience = models.CharField("发布对象", max_length=10, choices=Audience.choices, default=Audience.ALL)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField("发布时间", auto_now_add=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)

    class Meta:
        verbose_name = "公告"
        verbose_name_plural = "公告"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title

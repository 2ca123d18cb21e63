"""Social security cards: applications, the card's life in one transition table, and the vault ledger.

Stock is never stored: it is the sum of the append-only `CardMovement` rows at a location.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CardState(models.TextChoices):
    APPLIED = "applied", "已申领"
    IN_PRODUCTION = "in_production", "制卡中"
    PRODUCTION_FAILED = "production_failed", "制卡失败"
    PRODUCED = "produced", "已制成（中心库房）"
    SHIPPED = "shipped", "配送中"
    IN_STOCK = "in_stock", "网点待领"
    ISSUED = "issued", "已发放（正常）"
    TEMPORARILY_LOST = "temporarily_lost", "临时挂失"
    FORMALLY_LOST = "formally_lost", "正式挂失"
    REPLACED = "replaced", "已补换"
    CANCELLED = "cancelled", "已注销"
    RECALLED = "recalled", "已回收"
    DESTROYED = "destroyed", "已销毁"


# The one table of the card's life. Anything not listed here is refused with a StateError.
CARD_TRANSITIONS: dict[str, frozenset[str]] = {
    CardState.APPLIED: frozenset({CardState.IN_PRODUCTION, CardState.CANCELLED}),
    CardState.IN_PRODUCTION: frozenset({CardState.PRODUCED, CardState.PRODUCTION_FAILED}),
    # A failed record goes back to the applicant's queue; once corrected it is submitted again.
    CardState.PRODUCTION_FAILED: frozenset({CardState.APPLIED, CardState.CANCELLED}),
    CardState.PRODUCED: frozenset({CardState.SHIPPED, CardState.RECALLED}),
    # A card missing from its shipment and never found is voided (配送遗失) and made again.
    CardState.SHIPPED: frozenset({CardState.IN_STOCK, CardState.CANCELLED}),
    CardState.IN_STOCK: frozenset({CardState.ISSUED, CardState.RECALLED}),
    # issued → in_stock only for a unit's undistributed cards handed back to the outlet (文登 flow).
    CardState.ISSUED: frozenset(
        {
            CardState.TEMPORARILY_LOST,
            CardState.FORMALLY_LOST,
            CardState.CANCELLED,
            CardState.RECALLED,
            CardState.IN_STOCK,
        }
    ),
    CardState.TEMPORARILY_LOST: frozenset({CardState.ISSUED, CardState.FORMALLY_LOST}),
    # 补卡 requires a formal loss first (正式挂失后方可补卡).
    CardState.FORMALLY_LOST: frozenset({CardState.REPLACED, CardState.CANCELLED}),
    CardState.REPLACED: frozenset(),
    CardState.CANCELLED: frozenset({CardState.DESTROYED}),
    CardState.RECALLED: frozenset({CardState.DESTROYED}),
    CardState.DESTROYED: frozenset(),
}

# A person holds at most one of these per generation (a database constraint below).
LIVE_STATES: tuple[str, ...] = (
    CardState.APPLIED,
    CardState.IN_PRODUCTION,
    CardState.PRODUCTION_FAILED,
    CardState.PRODUCED,
    CardState.SHIPPED,
    CardState.IN_STOCK,
    CardState.ISSUED,
    CardState.TEMPORARILY_LOST,
)


class Generation(models.IntegerChoices):
    FIRST = 1, "第一代"
    SECOND = 2, "第二代"
    THIRD = 3, "第三代"


class DeliveryMode(models.TextChoices):
    OUTLET_PICKUP = "outlet_pickup", "网点领取"
    UNIT_COLLECTIVE = "unit_collective", "单位集中领取"
    VILLAGE = "village", "进村发放"
    MAIL = "mail", "邮寄（EMS到付）"


class NoticeDelivery(models.TextChoices):
    """What the pluggable sender reported for a notice (sending happens after the commit)."""

    PENDING = "pending", "待发送"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


class WasteCause(models.TextChoices):
    DECEASED = "deceased", "持卡人死亡（凭死亡证明）"
    BANK_CHANGE = "bank_change", "联名银行调整作废"
    ERROR = "error", "信息有误卡"
    OTHER_FAULT = "other_fault", "其他非持卡人过错"


class FailureStage(models.TextChoices):
    BANK = "bank", "银行开户"
    FACTORY = "factory", "卡厂制卡"


class SocialChannel(models.TextChoices):
    """Who enables the social-insurance function."""

    WINDOW = "window", "综合服务窗口"
    TOWNSHIP_STATION = "township_station", "基层人社站"
    BANK_OUTLET = "bank_outlet", "银行网点代办"
    CENTRAL = "central", "制卡中心集中启用（邮寄）"


class FinancialChannel(models.TextChoices):
    """How the co-brand bank activates the financial function."""

    COUNTER = "counter", "银行柜面"
    MOBILE_TERMINAL = "mobile_terminal", "移动终端"
    BANK_REPORT = "bank_report", "银行报送"


class ProductionBatch(models.Model):
    """One production file sent to the card factory."""

    file_name = models.CharField("文件名", max_length=255)
    card_count = models.PositiveIntegerField("卡数")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "制卡批次"
        verbose_name_plural = "制卡批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.card_count}张）"


class ProductionReturnFile(models.Model):
    """A factory/bank return file that was read. Its checksum makes a second read a no-op."""

    file_name = models.CharField("文件名", max_length=255)
    checksum = models.CharField("SHA-256", max_length=64, unique=True)
    row_count = models.PositiveIntegerField("行数")
    produced_count = models.PositiveIntegerField("制卡成功")
    failed_count = models.PositiveIntegerField("制卡失败")
    unchanged_count = models.PositiveIntegerField("已处理过")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("读入时间", auto_now_add=True)

    class Meta:
        verbose_name = "制卡回盘文件"
        verbose_name_plural = "制卡回盘文件"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.row_count}行）"


class CardApplication(models.Model):
    """申领: collected at a window. A failed production sends it back to the applicant's queue."""

    class State(models.TextChoices):
        ACCEPTED = "accepted", "已受理"
        RETURNED = "returned", "制卡失败退回"
        COMPLETED = "completed", "已制卡"
        CANCELLED = "cancelled", "已撤销"

    class Reason(models.TextChoices):
        NEW = "new", "首次申领"
        REPLACEMENT = "replacement", "挂失补卡"
        GENERATION = "generation", "换代"
        # 信息有误: the wrong card was recalled, the data collected again and a new card made
        ERROR_CARD = "error_card", "信息有误重新制卡"
        # A card lost between the centre and the outlet (配送短缺, not found): voided and made again.
        LOST_IN_TRANSIT = "transit_lost", "配送遗失重新制卡"

    class Relation(models.TextChoices):
        SPOUSE = "spouse", "配偶"
        PARENT = "parent", "父母"
        CHILD = "child", "子女"
        GRANDPARENT = "grandparent", "祖父母、外祖父母"
        GRANDCHILD = "grandchild", "孙子女、外孙子女"
        SIBLING = "sibling", "兄弟姐妹"
        OTHER = "other", "其他"

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="card_applications")
    bank = models.ForeignKey("orgs.Bank", on_delete=models.PROTECT, related_name="+", verbose_name="合作银行")
    generation = models.PositiveSmallIntegerField(
        "卡代别", choices=Generation.choices, default=Generation.THIRD
    )
    reason = models.CharField("申领原因", max_length=12, choices=Reason.choices, default=Reason.NEW)
    correction = models.CharField("更正内容", max_length=200, blank=True)
    agent_name = models.CharField("预留代办人姓名", max_length=50, blank=True)
    agent_ssn = models.CharField("预留代办人证件号码", max_length=18, blank=True)
    agent_relation = models.CharField("与申领人关系", max_length=12, choices=Relation.choices, blank=True)
    delivery = models.CharField("领卡方式", max_length=16, choices=DeliveryMode.choices)
    outlet = models.ForeignKey(
        "orgs.Outlet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="领卡网点",
    )
    mail_address = models.CharField("邮寄地址", max_length=200, blank=True)
    mail_phone = models.CharField("收件电话", max_length=30, blank=True)
    # 采集的相片 (personal data: served only to who may see the card, never from a public media URL)
    photo = models.FileField("相片", upload_to="cards/photos/%Y/%m/", blank=True)
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.ACCEPTED)
    failure_stage = models.CharField("失败环节", max_length=20, choices=FailureStage.choices, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("受理时间", auto_now_add=True)

    class Meta:
        verbose_name = "社保卡申领"
        verbose_name_plural = "社保卡申领"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="card_application_mail_has_address",
                condition=~Q(delivery="mail") | (~Q(mail_address="") & ~Q(mail_phone="")),
            ),
            models.CheckConstraint(
                name="card_application_pickup_has_outlet",
                condition=~Q(delivery="outlet_pickup") | Q(outlet__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"申领#{self.pk} {self.person.name}"

    @property
    def has_reserved_agent(self) -> bool:
        return bool(self.agent_ssn)


class Card(models.Model):
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="cards", verbose_name="持卡人"
    )
    bank = models.ForeignKey(
        "orgs.Bank", on_delete=models.PROTECT, related_name="cards", verbose_name="合作银行"
    )
    generation = models.PositiveSmallIntegerField("卡代别", choices=Generation.choices)
    state = models.CharField("状态", max_length=20, choices=CardState.choices, default=CardState.APPLIED)
    card_no = models.CharField("卡号", max_length=9, null=True, blank=True)
    card_uid = models.CharField("卡识别码", max_length=32, blank=True)
    bank_account = models.CharField("金融账号", max_length=19, blank=True)
    issue_date = models.DateField("发卡日期", null=True, blank=True)
    expiry_date = models.DateField("有效期至", null=True, blank=True)
    box_position = models.CharField("装箱位置", max_length=40, blank=True)
    failure_stage = models.CharField("制卡失败环节", max_length=20, choices=FailureStage.choices, blank=True)
    failure_reason = models.CharField("制卡失败原因", max_length=200, blank=True)
    application = models.ForeignKey(
        CardApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cards",
        verbose_name="申领",
    )
    production_batch = models.ForeignKey(
        ProductionBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cards",
        verbose_name="制卡批次",
    )
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
        verbose_name="原卡",
    )

    ss_activated_at = models.DateTimeField("人社功能启用时间", null=True, blank=True)
    ss_activated_place = models.CharField("人社功能启用地点", max_length=100, blank=True)
    ss_activated_channel = models.CharField(
        "人社功能启用方式", max_length=20, choices=SocialChannel.choices, blank=True
    )
    ss_activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fin_activated_at = models.DateTimeField("金融功能激活时间", null=True, blank=True)
    fin_activated_place = models.CharField("金融功能激活地点", max_length=100, blank=True)
    fin_activated_channel = models.CharField(
        "金融功能激活方式", max_length=20, choices=FinancialChannel.choices, blank=True
    )
    fin_activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "社会保障卡"
        verbose_name_plural = "社会保障卡"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "generation"],
                condition=Q(state__in=LIVE_STATES),
                name="card_one_live_per_person_generation",
            ),
            models.UniqueConstraint(
                fields=["card_no"],
                condition=Q(state__in=LIVE_STATES, card_no__isnull=False),
                name="card_no_unique_among_live",
            ),
            models.CheckConstraint(name="card_generation_valid", condition=Q(generation__in=[1, 2, 3])),
        ]
        indexes = [
            models.Index(fields=["card_no"], name="card_no_idx"),
            models.Index(fields=["state"], name="card_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.card_no or '（未制卡）'} {self.person.name}"

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


class CardLocation(models.Model):
    """Where cards are kept: the centre's vault (one per region) or a service outlet."""

    class Kind(models.TextChoices):
        CENTRE = "centre", "中心库房"
        OUTLET = "outlet", "服务网点"

    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="+", verbose_name="统筹区"
    )
    outlet = models.OneToOneField(
        "orgs.Outlet", null=True, blank=True, on_delete=models.PROTECT, related_name="card_location"
    )
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = "卡片库位"
        verbose_name_plural = "卡片库位"
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=Q(kind="centre"), name="card_location_one_centre"
            ),
            models.CheckConstraint(
                name="card_location_outlet_matches_kind",
                condition=(Q(kind="outlet") & Q(outlet__isnull=False))
                | (Q(kind="centre") & Q(outlet__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Shipment(models.Model):
    """Cards in boxes from the centre to an outlet, with the handover record (附件2) signed by both sides."""

    class State(models.TextChoices):
        IN_TRANSIT = "in_transit", "配送中"
        RECEIVED = "received", "已签收入库"
        # the outlet signed in what was in the boxes; the cards it did not find are still in transit
        SHORT = "short", "已签收（有短缺待查）"

    source = models.ForeignKey(
        CardLocation, on_delete=models.PROTECT, related_name="+", verbose_name="发出库位"
    )
    destination = models.ForeignKey(
        CardLocation, on_delete=models.PROTECT, related_name="+", verbose_name="接收库位"
    )
    boxes = models.CharField("箱号", max_length=200, blank=True)
    card_count = models.PositiveIntegerField("卡数")
    handed_over_by = models.CharField("交付人（人社）", max_length=50)
    received_by = models.CharField("接收人（网点）", max_length=50)
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.IN_TRANSIT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("交接时间", auto_now_add=True)
    received_at = models.DateTimeField("入库时间", null=True, blank=True)
    shortage_note = models.CharField("短缺说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "配送交接"
        verbose_name_plural = "配送交接"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"配送#{self.pk} → {self.destination}"


# The one table of a shipment's life: signed in whole, or with cards missing that may turn up later.
SHIPMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    Shipment.State.IN_TRANSIT: frozenset({Shipment.State.RECEIVED, Shipment.State.SHORT}),
    Shipment.State.SHORT: frozenset({Shipment.State.RECEIVED, Shipment.State.SHORT}),
    Shipment.State.RECEIVED: frozenset(),
}


class CardMovement(models.Model):
    """One append-only ledger line: a card came into or left a location, with a named custodian."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "入库"
        HANDED_OVER = "handed_over", "交出"
        ISSUED = "issued", "发放"
        RETURNED = "returned", "退回"
        RECALLED = "recalled", "回收"
        DESTROYED = "destroyed", "销毁"

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(CardLocation, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    custodian = models.CharField("保管责任人", max_length=50)
    counterparty = models.CharField("对方", max_length=100, blank=True)
    batch_ref = models.CharField("批次/箱号", max_length=60, blank=True)
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "卡片出入库流水"
        verbose_name_plural = "卡片出入库流水"
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["location", "card"], name="card_movement_loc_card_idx"),
            models.Index(fields=["card", "at"], name="card_movement_card_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.card_id} @ {self.location_id}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not kwargs.get("force_insert"):
            raise RuntimeError("the card ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the card ledger is append-only")


# A card comes into a location's custody with these; the others take it out.
INFLOW_KINDS = (CardMovement.Kind.RECEIVED, CardMovement.Kind.RETURNED, CardMovement.Kind.RECALLED)
OUTFLOW_KINDS = (CardMovement.Kind.HANDED_OVER, CardMovement.Kind.ISSUED, CardMovement.Kind.DESTROYED)


class CardNotice(models.Model):
    """A notice that cards wait at an outlet (to a unit or to a person), with its channel and time."""

    class Channel(models.TextChoices):
        PHONE = "phone", "电话"
        SMS = "sms", "短信"
        FAX = "fax", "传真"
        WRITTEN = "written", "书面"

    outlet = models.ForeignKey("orgs.Outlet", on_delete=models.PROTECT, related_name="+", verbose_name="网点")
    employer = models.ForeignKey(
        "orgs.Employer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="单位",
    )
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="人员",
    )
    channel = models.CharField("通知方式", max_length=10, choices=Channel.choices)
    sent_at = models.DateTimeField("通知时间")
    note = models.CharField("通知内容", max_length=200, blank=True)
    recipient = models.CharField("号码/地址", max_length=200, blank=True)
    message = models.TextField("通知全文", blank=True)
    delivery = models.CharField(
        "发送结果", max_length=10, choices=NoticeDelivery.choices, default=NoticeDelivery.PENDING
    )
    sender = models.CharField("发送通道", max_length=100, blank=True)
    delivered_at = models.DateTimeField("发送完成时间", null=True, blank=True)
    delivery_error = models.CharField("发送失败原因", max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "领卡通知"
        verbose_name_plural = "领卡通知"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="card_notice_has_addressee",
                condition=Q(employer__isnull=False) | Q(person__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}通知 {self.sent_at:%Y-%m-%d}"


class UnitHandover(models.Model):
    """集中领卡移交单 (附件3): two unit clerks with a letter of introduction collect their members' cards."""

    outlet = models.ForeignKey("orgs.Outlet", on_delete=models.PROTECT, related_name="+", verbose_name="网点")
    employer = models.ForeignKey(
        "orgs.Employer", on_delete=models.PROTECT, related_name="+", verbose_name="单位"
    )
    notice = models.ForeignKey(
        CardNotice, on_delete=models.PROTECT, related_name="+", verbose_name="领卡通知"
    )
    letter_no = models.CharField("介绍信编号", max_length=60)
    clerk1_name = models.CharField("经办人一", max_length=50)
    clerk1_ssn = models.CharField("经办人一身份证号", max_length=18)
    clerk2_name = models.CharField("经办人二", max_length=50)
    clerk2_ssn = models.CharField("经办人二身份证号", max_length=18)
    card_count = models.PositiveIntegerField("卡数")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("移交时间", auto_now_add=True)
    # The unit reports back: which cards reached their members, which came back undistributed.
    settled_at = models.DateTimeField("交回时间", null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_count = models.PositiveIntegerField("交回未发卡数", default=0)

    class Meta:
        verbose_name = "集中领卡移交单"
        verbose_name_plural = "集中领卡移交单"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"移交单#{self.pk} {self.employer}"


class CardIssue(models.Model):
    """Who received a card, how, and against which documents (个人领取登记表 附件5 / 移交单 附件3)."""

    class Mode(models.TextChoices):
        PERSONAL = "personal", "本人领取"
        AGENT = "agent", "代办人领取"
        UNIT_COLLECTIVE = "unit_collective", "单位集中领取"
        VILLAGE = "village", "进村发放"
        MAIL = "mail", "邮寄（EMS到付）"

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="issues")
    outlet = models.ForeignKey(
        "orgs.Outlet", on_delete=models.PROTECT, related_name="+", verbose_name="发放网点"
    )
    mode = models.CharField("领取方式", max_length=16, choices=Mode.choices)
    receiver_name = models.CharField("领取人姓名", max_length=50)
    receiver_ssn = models.CharField("领取人证件号码", max_length=18)
    relation = models.CharField(
        "与持卡人关系", max_length=12, choices=CardApplication.Relation.choices, blank=True
    )
    reserved_agent = models.BooleanField("预留代办人", default=False)
    household_register = models.BooleanField("查验户口本", default=False)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    handover = models.ForeignKey(
        UnitHandover,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issues",
        verbose_name="移交单",
    )
    village_session = models.ForeignKey(
        "VillageSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="issues",
        verbose_name="进村发放场次",
    )
    # 进村发放: what the two officers checked at the table (身份证件、照片及住址信息) and the signed 附件5.
    id_checked = models.BooleanField("核对身份证件", default=False)
    photo_checked = models.BooleanField("核对照片", default=False)
    address_checked = models.BooleanField("核对住址", default=False)
    form_signed = models.BooleanField("已在登记表上签字", default=False)
    # 代办人领取: a reserved agent shows their own ID and the applicant's (申领人身份证)
    applicant_id_shown = models.BooleanField("查验申领人身份证", default=False)
    password_changed = models.BooleanField("现场修改密码", default=False)
    tracking_no = models.CharField("EMS运单号", max_length=20, blank=True)
    # 单位集中领卡: the unit records the day it handed the card to its member (文登: 发卡名单).
    member_received_on = models.DateField("单位发给本人日期", null=True, blank=True)
    member_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("领取时间")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "领卡登记"
        verbose_name_plural = "领卡登记"
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.receiver_name}"


class CardAccountOffer(models.Model):
    """A financially activated card's account, offered to the payment-account history.

    The account-switching app decides when (and whether) it becomes the paying account.
    """

    class State(models.TextChoices):
        OFFERED = "offered", "待启用"
        APPLIED = "applied", "已启用为发放账户"
        REJECTED = "rejected", "未采用"

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="card_account_offers")
    card = models.OneToOneField(Card, on_delete=models.PROTECT, related_name="account_offer")
    bank = models.ForeignKey("orgs.Bank", on_delete=models.PROTECT, related_name="+")
    account_no = models.CharField("银行账号", max_length=19)
    offered_at = models.DateTimeField("提供时间")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.OFFERED)

    class Meta:
        verbose_name = "社保卡账户待启用"
        verbose_name_plural = "社保卡账户待启用"
        ordering = ["-offered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.person} {self.account_no[-4:]}"


class VaultClosing(models.Model):
    """月清月结: the custodian's physical count of a location for one month, compared with the ledger.

    Every difference must be explained before the month can be closed (帐卡相符).
    """

    class State(models.TextChoices):
        COUNTED = "counted", "已盘点待结账"
        CLOSED = "closed", "已结账"

    location = models.ForeignKey(CardLocation, on_delete=models.PROTECT, related_name="closings")
    period = models.PositiveIntegerField("结账月份（YYYYMM）")
    counted_by = models.CharField("盘点人（保管责任人）", max_length=50)
    counted_at = models.DateTimeField("盘点时间")
    counted_cards = models.PositiveIntegerField("实盘卡数")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.COUNTED)
    closed_at = models.DateTimeField("结账时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "月清月结"
        verbose_name_plural = "月清月结"
        ordering = ["-period", "location"]
        constraints = [
            models.UniqueConstraint(fields=["location", "period"], name="vault_closing_one_per_month"),
            models.CheckConstraint(
                name="vault_closing_period_valid", condition=Q(period__gte=190001, period__lte=220012)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} {self.period}"


class VaultDifference(models.Model):
    """A card the ledger holds but the count did not find (missing), or the other way round (extra)."""

    class Kind(models.TextChoices):
        MISSING = "missing", "帐有卡无（盘亏）"
        EXTRA = "extra", "卡有帐无（盘盈）"

    closing = models.ForeignKey(VaultClosing, on_delete=models.PROTECT, related_name="differences")
    kind = models.CharField("差异类型", max_length=10, choices=Kind.choices)
    card_no = models.CharField("卡号", max_length=9)
    card = models.ForeignKey(Card, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    explanation = models.CharField("差异说明", max_length=300, blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    explained_at = models.DateTimeField("说明时间", null=True, blank=True)

    class Meta:
        verbose_name = "盘点差异"
        verbose_name_plural = "盘点差异"
        ordering = ["kind", "card_no"]
        constraints = [
            models.UniqueConstraint(fields=["closing", "card_no"], name="vault_difference_unique_card"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.card_no}"


class CardRecall(models.Model):
    """A card taken back: an error card (wrong data on the card, a new one is made) or a waste card.

    Error cards at an outlet make up the 信息有误人员清单 (附件4) handed to the centre with the cards.
    """

    class Kind(models.TextChoices):
        ERROR = "error", "信息有误卡"
        WASTE = "waste", "废卡"

    card = models.OneToOneField(Card, on_delete=models.PROTECT, related_name="recall")
    kind = models.CharField("回收类型", max_length=10, choices=Kind.choices)
    reason = models.CharField("回收原因", max_length=200)
    cause = models.CharField("作废原因", max_length=12, choices=WasteCause.choices, blank=True)
    death_certificate_no = models.CharField("死亡证明编号", max_length=40, blank=True)
    location = models.ForeignKey(
        CardLocation, on_delete=models.PROTECT, related_name="recalls", verbose_name="回收库位"
    )
    recalled_at = models.DateTimeField("回收时间")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "社保卡回收"
        verbose_name_plural = "社保卡回收"
        ordering = ["-recalled_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.card_id}"


# ---------------------------------------------------------------- village distribution (进村发放)


class VillageSession(models.Model):
    """A planned session: the station's card officer and the bank's manager go to the villages on a date."""

    class State(models.TextChoices):
        PLANNED = "planned", "已计划"
        CLOSED = "closed", "已结束"

    outlet = models.ForeignKey(
        "orgs.Outlet", on_delete=models.PROTECT, related_name="+", verbose_name="发卡网点（卡片所在库位）"
    )
    township = models.ForeignKey(
        "orgs.Township", on_delete=models.PROTECT, related_name="+", verbose_name="乡镇"
    )
    held_on = models.DateField("发放日期")
    place = models.CharField("发放地点", max_length=100)
    villages = models.CharField("已通知村屯", max_length=300)
    notified_by = models.CharField("通知方式/通知人（村委会）", max_length=100)
    station_officer = models.CharField("人社站社保卡专员", max_length=50)
    bank_officer = models.CharField("合作银行管理员", max_length=50)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "进村发放场次"
        verbose_name_plural = "进村发放场次"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.place}"


# ---------------------------------------------------------------- mail delivery (邮寄) with liveness proof


class MailState(models.TextChoices):
    REQUESTED = "requested", "待审核"
    APPROVED = "approved", "审核通过待邮寄"
    REJECTED = "rejected", "审核未通过"
    DISPATCHED = "dispatched", "已邮寄（EMS到付）"
    CANCELLED = "cancelled", "已撤销"


# The one table of a mail request's life; anything else is refused.
MAIL_TRANSITIONS: dict[str, frozenset[str]] = {
    MailState.REQUESTED: frozenset({MailState.APPROVED, MailState.REJECTED, MailState.CANCELLED}),
    # the holder uploads better proofs and asks again
    MailState.REJECTED: frozenset({MailState.REQUESTED, MailState.CANCELLED}),
    MailState.APPROVED: frozenset({MailState.DISPATCHED, MailState.CANCELLED}),
    MailState.DISPATCHED: frozenset(),
    MailState.CANCELLED: frozenset(),
}

OPEN_MAIL_STATES = (MailState.REQUESTED, MailState.REJECTED, MailState.APPROVED)


class MailRequest(models.Model):
    """The holder asks for the card by EMS (cash on delivery) and proves being alive (生存状态识别)."""

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="mail_requests")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    address = models.CharField("邮寄地址", max_length=200)
    phone = models.CharField("收件电话", max_length=30)
    phrase = models.CharField("视频中须朗读的规定话语", max_length=100)
    state = models.CharField("状态", max_length=12, choices=MailState.choices, default=MailState.REQUESTED)
    reject_reason = models.CharField("未通过原因", max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    tracking_no = models.CharField("EMS运单号", max_length=20, blank=True)
    dispatched_at = models.DateTimeField("邮寄时间", null=True, blank=True)
    dispatched_from = models.ForeignKey(
        "orgs.Outlet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="寄出网点",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    class Meta:
        verbose_name = "邮寄领卡申请"
        verbose_name_plural = "邮寄领卡申请"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["card"],
                condition=Q(state__in=["requested", "rejected", "approved"]),
                name="mail_request_one_open_per_card",
            ),
            models.UniqueConstraint(
                fields=["tracking_no"], condition=~Q(tracking_no=""), name="mail_request_tracking_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"邮寄申请#{self.pk}"


class LivenessProof(models.Model):
    """One of the three proofs; the files live under MEDIA_ROOT and are served only to who may see them."""

    class Kind(models.TextChoices):
        VIDEO = "video", "朗读规定话语的视频"
        ID_PHOTO = "id_photo", "手持本人身份证的照片"
        NEWSPAPER_PHOTO = "newspaper_photo", "手持当日报纸的照片"

    request = models.ForeignKey(MailRequest, on_delete=models.PROTECT, related_name="proofs")
    kind = models.CharField("材料类型", max_length=16, choices=Kind.choices)
    file = models.FileField("文件", upload_to="cards/liveness/%Y/%m/")
    original_name = models.CharField("原文件名", max_length=200)
    content_type = models.CharField("文件类型", max_length=50)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "生存状态认证材料"
        verbose_name_plural = "生存状态认证材料"
        ordering = ["request", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["request", "kind"], name="liveness_proof_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（申请#{self.request_id}）"


# ---------------------------------------------------------------- temporary cards (临时卡)


class TempCard(models.Model):
    """A temporary card: recovered before the formal card is issued, or a fee is charged for it."""

    class State(models.TextChoices):
        OUTSTANDING = "outstanding", "未回收"
        RECOVERED = "recovered", "已回收"
        LOST = "lost", "丢失（已收工本费）"
        DAMAGED = "damaged", "损坏（已收工本费）"

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="temp_cards")
    temp_no = models.CharField("临时卡号", max_length=20, unique=True)
    issued_on = models.DateField("发临时卡日期")
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.OUTSTANDING)
    outlet = models.ForeignKey(
        "orgs.Outlet",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="处理网点",
    )
    fee = models.DecimalField("工本费（元）", max_digits=8, decimal_places=2, null=True, blank=True)
    receipt_no = models.CharField("收据编号", max_length=30, null=True, blank=True, unique=True)
    settled_at = models.DateTimeField("处理时间", null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reconciliation = models.ForeignKey(
        "TempCardReconciliation", null=True, blank=True, on_delete=models.PROTECT, related_name="temp_cards"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "临时卡"
        verbose_name_plural = "临时卡"
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="temp_card_fee_has_receipt",
                condition=~Q(state__in=["lost", "damaged"]) | (Q(fee__gt=0) & Q(receipt_no__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"临时卡 {self.temp_no}"


class TempCardReconciliation(models.Model):
    """每月15日（遇节假日顺延）: one outlet's recovered temporary cards and fees of one month, checked."""

    outlet = models.ForeignKey("orgs.Outlet", on_delete=models.PROTECT, related_name="+", verbose_name="网点")
    period = models.PositiveIntegerField("核对月份（YYYYMM）")
    reconcile_date = models.DateField("核对日")
    checked_by = models.CharField("核对人", max_length=50)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("核对时间", auto_now_add=True)

    class Meta:
        verbose_name = "临时卡及工本费核对"
        verbose_name_plural = "临时卡及工本费核对"
        ordering = ["-period", "outlet"]
        constraints = [
            models.UniqueConstraint(fields=["outlet", "period"], name="temp_reconciliation_one_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.outlet} {self.period}"


# ---------------------------------------------------------------- waste-card destruction (废卡销毁)


class CardDestruction(models.Model):
    """废卡销毁: a region's waste cards handed to the provincial centre and destroyed in a witnessed session."""

    class State(models.TextChoices):
        HANDED_OVER = "handed_over", "已交付省厅待销毁"
        DESTROYED = "destroyed", "已销毁"

    region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="+", verbose_name="交付地区"
    )
    state = models.CharField("状态", max_length=12, choices=State.choices, default=State.HANDED_OVER)
    card_count = models.PositiveIntegerField("卡数")
    handed_over_by = models.CharField("交付人（地区信息管理部门）", max_length=50)
    received_by = models.CharField("接收人（省厅信息管理中心）", max_length=50)
    handed_over_at = models.DateTimeField("交付时间")
    destroyed_at = models.DateTimeField("销毁时间", null=True, blank=True)
    place = models.CharField("销毁地点", max_length=100, blank=True)
    method = models.CharField("销毁方式", max_length=50, blank=True)
    witness_centre = models.CharField("监销人（省厅信息管理中心）", max_length=50, blank=True)
    witness_bank = models.CharField("监销人（合作银行）", max_length=50, blank=True)
    witness_factory = models.CharField("监销人（卡厂）", max_length=50, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    destroyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "废卡销毁"
        verbose_name_plural = "废卡销毁"
        ordering = ["-handed_over_at", "-id"]

    def __str__(self) -> str:
        return f"废卡销毁#{self.pk}（{self.card_count}张）"


class CardDestructionItem(models.Model):
    destruction = models.ForeignKey(CardDestruction, on_delete=models.PROTECT, related_name="items")
    card = models.OneToOneField(Card, on_delete=models.PROTECT, related_name="destruction_item")
    cause = models.CharField("作废原因", max_length=12, choices=WasteCause.choices)

    class Meta:
        verbose_name = "废卡销毁明细"
        verbose_name_plural = "废卡销毁明细"
        ordering = ["destruction", "id"]

    def __str__(self) -> str:
        return f"{self.card_id}"


class DocumentDisposal(models.Model):
    """文件销毁/处置记录表 (附表6): the paper and electronic forms with personal data, destroyed after distribution."""

    class Medium(models.TextChoices):
        PAPER = "paper", "纸质"
        ELECTRONIC = "electronic", "电子"

    class Method(models.TextChoices):
        SHRED = "shred", "碎纸机粉碎"
        BURN = "burn", "焚毁"
        DELETE = "delete", "彻底删除"
        WIPE = "wipe", "介质消磁/物理销毁"

    region = models.ForeignKey(
        "orgs.Region", on_delete=models.PROTECT, related_name="+", verbose_name="统筹区"
    )
    outlet = models.ForeignKey(
        "orgs.Outlet", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="网点"
    )
    disposed_on = models.DateField("销毁/处置日期")
    document = models.CharField("文件名称", max_length=200)
    medium = models.CharField("载体", max_length=12, choices=Medium.choices)
    quantity = models.CharField("数量（份/页/个文件）", max_length=50)
    covers = models.CharField("涉及发放批次/期间", max_length=100, blank=True)
    method = models.CharField("销毁/处置方式", max_length=10, choices=Method.choices)
    disposed_by = models.CharField("执行人", max_length=50)
    witness = models.CharField("监督人", max_length=50)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "文件销毁/处置记录"
        verbose_name_plural = "文件销毁/处置记录"
        ordering = ["-disposed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.disposed_on:%Y-%m-%d} {self.document}"

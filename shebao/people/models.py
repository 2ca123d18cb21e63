"""People registry: persons, their beneficiary categories and their effective-dated payment accounts."""

from django.conf import settings
from django.db import models


class Sex(models.TextChoices):
    MALE = "1", "男"
    FEMALE = "2", "女"


class BenefitCategory(models.TextChoices):
    ENTERPRISE_RETIREE = "enterprise_retiree", "企业退休人员"
    INSTITUTION_RETIREE = "institution_retiree", "机关事业单位退休人员"
    RESIDENT_PENSIONER = "resident_pensioner", "城乡居民养老金领取人员"
    RETIRED_CADRE = "retired_cadre", "离休干部"
    WORK_INJURY = "work_injury", "工伤待遇领取人员"
    UNEMPLOYMENT = "unemployment", "失业保险金领取人员"
    MATERNITY = "maternity", "生育待遇领取人员"
    SURVIVOR = "survivor", "遗属待遇领取人员"


class ImportBatch(models.Model):
    """One imported file. The checksum makes a second import of the same file a no-op."""

    kind = models.CharField("类型", max_length=30)
    file_name = models.CharField("文件名", max_length=255)
    checksum = models.CharField("SHA-256", max_length=64)
    row_count = models.PositiveIntegerField("行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        constraints = [models.UniqueConstraint(fields=["kind", "checksum"], name="import_batch_unique_file")]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.row_count}行）"


class Person(models.Model):
    ssn = models.CharField("社会保障号码", max_length=18, unique=True)
    name = models.CharField("姓名", max_length=50)
    name_initials = models.CharField("姓名拼音首字母", max_length=50, db_index=True, blank=True)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期")
    ethnicity = models.CharField("民族", max_length=20, blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    lives_in_region = models.BooleanField("居住在统筹区内", default=True)
    region = models.ForeignKey("orgs.Region", on_delete=models.PROTECT, related_name="persons", verbose_name="统筹区")
    employer = models.ForeignKey(
        "orgs.Employer", null=True, blank=True, on_delete=models.PROTECT, related_name="persons", verbose_name="参保单位"
    )
    township = models.ForeignKey(
        "orgs.Township", null=True, blank=True, on_delete=models.PROTECT, related_name="persons", verbose_name="乡镇"
    )
    death_date = models.DateField("死亡日期", null=True, blank=True)
    # Has at least one PersonCategory: the comparison's beneficiaries are read by this flag instead of a
    # semi-join on the category table (bench/README.md, comparison). Kept by every writer of categories in
    # the people app (services, the import) and by beneficiary_flags_refresh for any other bulk path;
    # db_default so a raw INSERT that does not name it still writes False.
    is_beneficiary = models.BooleanField("有待遇类别", default=False, db_default=False, editable=False)
    import_batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"
        ordering = ["ssn"]
        indexes = [models.Index(fields=["name"], name="person_name_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.ssn[:6]}…{self.ssn[-4:]}）"

    @property
    def is_deceased(self) -> bool:
        return self.death_date is not None


class PersonCategory(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="categories")
    category = models.CharField("人员类别", max_length=30, choices=BenefitCategory.choices)

    class Meta:
        verbose_name = "人员类别"
        verbose_name_plural = "人员类别"
        constraints = [models.UniqueConstraint(fields=["person", "category"], name="person_category_unique")]
        indexes = [models.Index(fields=["category", "person"], name="person_category_idx")]

    def __str__(self) -> str:
        return self.get_category_display()


class PaymentAccount(models.Model):
    """One row of a person's effective-dated payment-account history; rows are never overwritten.

    The account paying period P is the row with the greatest valid_from <= P (ties: the latest row).
    """

    class Kind(models.TextChoices):
        CARD = "card", "社保卡账户"
        PASSBOOK = "passbook", "存折"
        OTHER_CARD = "other_card", "其他银行卡"

    class Source(models.TextChoices):
        IMPORT = "import", "批量导入"
        MANUAL = "manual", "经办录入"
        SWITCH = "switch", "换发社保卡账户"
        CARD_ACTIVATION = "card_activation", "社保卡金融激活"
        NEW_BENEFICIARY = "new_beneficiary", "新增待遇人员"
        ALTERNATE = "alternate", "本人另行提供账户"

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="accounts")
    bank = models.ForeignKey(
        "orgs.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="开户银行"
    )
    bank_name = models.CharField("开户行名称", max_length=100, blank=True)
    account_no = models.CharField("银行账号", max_length=19)
    account_name = models.CharField("账户户名", max_length=50)
    kind = models.CharField("账户类型", max_length=12, choices=Kind.choices)
    valid_from = models.PositiveIntegerField("启用期（YYYYMM）")
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    note = models.CharField("备注", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "发放账户"
        verbose_name_plural = "发放账户"
        ordering = ["person", "valid_from", "id"]
        indexes = [
            models.Index(fields=["person", "valid_from"], name="account_person_from_idx"),
            models.Index(fields=["bank", "account_no"], name="account_bank_no_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="account_valid_from_is_period",
                condition=models.Q(valid_from__gte=190001, valid_from__lte=220012),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_name} {self.account_no[:4]}…{self.account_no[-4:]}"

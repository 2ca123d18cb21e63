"""Organisations: regions, townships, employer units, partner banks and their outlets."""

from django.db import models


class Region(models.Model):
    """统筹区: a GB/T 2260 area at province, city or county level."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省"
        CITY = "city", "市"
        COUNTY = "county", "县（区）"

    code = models.CharField("区划代码", max_length=6, unique=True)
    name = models.CharField("名称", max_length=50)
    level = models.CharField("级别", max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = "统筹区"
        verbose_name_plural = "统筹区"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Township(models.Model):
    class Kind(models.TextChoices):
        TOWN = "town", "镇"
        TOWNSHIP = "township", "乡"
        STREET = "street", "街道"

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="townships", verbose_name="统筹区")
    code = models.CharField("乡镇代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=50)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices, default=Kind.TOWN)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)

    class Meta:
        verbose_name = "乡镇（街道）"
        verbose_name_plural = "乡镇（街道）"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Employer(models.Model):
    """参保单位. Enterprises and institutions (机关事业单位) follow different account-switch flows."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", "企业"
        INSTITUTION = "institution", "机关事业单位"

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="employers", verbose_name="统筹区")
    code = models.CharField("单位编号", max_length=32, unique=True)
    name = models.CharField("单位名称", max_length=100)
    kind = models.CharField("单位类型", max_length=12, choices=Kind.choices, default=Kind.ENTERPRISE)
    township = models.ForeignKey(
        Township, null=True, blank=True, on_delete=models.PROTECT, related_name="employers", verbose_name="所在乡镇"
    )
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)

    class Meta:
        verbose_name = "参保单位"
        verbose_name_plural = "参保单位"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Bank(models.Model):
    """合作银行 / 联名银行: the co-brand bank of cards and the disbursing bank of payrolls."""

    code = models.CharField("银行代码", max_length=16, unique=True)
    name = models.CharField("银行名称", max_length=100)
    short_name = models.CharField("简称", max_length=20, blank=True)
    file_layout = models.CharField("代发文件格式", max_length=20, default="txt-v1")
    payer_code = models.CharField("代发单位编号", max_length=32, blank=True)

    class Meta:
        verbose_name = "合作银行"
        verbose_name_plural = "合作银行"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.short_name or self.name


class Outlet(models.Model):
    """服务网点: a bank branch, a comprehensive service window or a grassroots station."""

    class Kind(models.TextChoices):
        BANK_BRANCH = "bank_branch", "银行网点"
        SERVICE_WINDOW = "service_window", "综合服务窗口"
        GRASSROOTS_STATION = "grassroots_station", "基层人社站"

    code = models.CharField("网点编号", max_length=20, unique=True)
    name = models.CharField("网点名称", max_length=100)
    kind = models.CharField("网点类型", max_length=20, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="outlets", verbose_name="统筹区")
    bank = models.ForeignKey(
        Bank, null=True, blank=True, on_delete=models.PROTECT, related_name="outlets", verbose_name="所属银行"
    )
    township = models.ForeignKey(
        Township, null=True, blank=True, on_delete=models.PROTECT, related_name="outlets", verbose_name="所在乡镇"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    phone = models.CharField("电话", max_length=30, blank=True)

    class Meta:
        verbose_name = "服务网点"
        verbose_name_plural = "服务网点"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="outlet_bank_branch_has_bank",
                condition=~models.Q(kind="bank_branch") | models.Q(bank__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

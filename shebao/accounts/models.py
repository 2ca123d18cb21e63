"""Users with one role and the organisation that bounds their data scope; API tokens; login failures."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from shebao.accounts.roles import Role, role_can


class User(AbstractUser):
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.CENTRE_CLERK)
    full_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("电话", max_length=30, blank=True)
    region = models.ForeignKey(
        "orgs.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="统筹区"
    )
    employer = models.ForeignKey(
        "orgs.Employer", null=True, blank=True, on_delete=models.PROTECT, related_name="users", verbose_name="单位"
    )
    township = models.ForeignKey(
        "orgs.Township", null=True, blank=True, on_delete=models.PROTECT, related_name="users", verbose_name="乡镇"
    )
    bank = models.ForeignKey(
        "orgs.Bank", null=True, blank=True, on_delete=models.PROTECT, related_name="users", verbose_name="银行"
    )
    outlet = models.ForeignKey(
        "orgs.Outlet", null=True, blank=True, on_delete=models.PROTECT, related_name="users", verbose_name="网点"
    )
    person = models.OneToOneField(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="user", verbose_name="本人"
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        constraints = [
            # A scoped role without its organisation would see nothing or, worse, everything.
            models.CheckConstraint(
                name="user_role_has_scope",
                condition=(
                    Q(role__in=["centre_clerk", "centre_supervisor", "auditor"], region__isnull=False)
                    | Q(role="unit_clerk", employer__isnull=False)
                    | Q(role="township_clerk", township__isnull=False)
                    | Q(role="bank_clerk", bank__isnull=False)
                    | Q(role="cardholder", person__isnull=False)
                    | Q(is_superuser=True)
                ),
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def org_label(self) -> str:
        role = self.role
        if role == Role.UNIT_CLERK and self.employer_id:
            return self.employer.name  # type: ignore[union-attr]
        if role == Role.TOWNSHIP_CLERK and self.township_id:
            return self.township.name  # type: ignore[union-attr]
        if role == Role.BANK_CLERK and self.bank_id:
            return self.outlet.name if self.outlet_id else self.bank.name  # type: ignore[union-attr]
        if role == Role.CARDHOLDER:
            return "本人"
        if self.region_id:
            return self.region.name  # type: ignore[union-attr]
        return ""

    def can(self, action: str) -> bool:
        if not self.is_active:
            return False
        return role_can(self.role, action)

    @property
    def sees_full_ids(self) -> bool:
        return self.can("person.full_ids")


class ApiToken(models.Model):
    """A machine client's bearer token. Only its SHA-256 is stored; it acts with its user's role and scope."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("前缀", max_length=8)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "API令牌"
        verbose_name_plural = "API令牌"

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class LoginFailure(models.Model):
    """One failed login; enough of them within the window lock the username."""

    username = models.CharField(max_length=150, db_index=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.username} @ {self.at:%Y-%m-%d %H:%M:%S}"

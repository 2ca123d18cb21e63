"""The payroll and failure exports: xlsx, in the user's scope, audited, amounts adding up to the fen."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse

from shebao.audit import actions
from shebao.audit.models import AuditLog
from shebao.payments.services import return_file_import
from tests.factories import PASSWORD, UserFactory
from tests.payments.factories import filed, return_bytes


def _rows(response) -> list[list]:  # type: ignore[no-untyped-def,type-arg]
    from python_calamine import CalamineWorkbook

    content = b"".join(response.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def _login(client, user):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def payroll(pay, world):  # type: ignore[no-untyped-def]
    """June filed and returned: A (unit A, township A) failed with 户名不符, B paid."""
    payroll = filed(pay)
    for bank_file in payroll.bank_files.all():
        failures = {1: "name_mismatch"} if bank_file.bank_id == world.bank_a.pk else {}
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file, failures=failures),
            file_name=f"r{bank_file.pk}.txt",
            actor=world.centre_clerk,
        )
    return payroll


def test_the_payroll_export_adds_up_to_the_control_total_to_the_fen(client, world, payroll):
    rows = _rows(
        _login(client, world.centre_clerk).get(reverse("payments:payroll_export", args=[payroll.pk]))
    )

    amounts = [Decimal(str(r[6])).quantize(Decimal("0.01")) for r in rows[1:]]
    assert len(amounts) == payroll.control_count
    assert sum(amounts, Decimal("0.00")) == payroll.control_total == Decimal("4145.60")
    assert {r[3]: r[10] for r in rows[1:]} == {"王小明": "发放失败", "李小红": "已发放"}
    assert AuditLog.objects.filter(action=actions.EXPORT, new__payroll=payroll.pk).count() == 1


@pytest.mark.parametrize(
    ("persona", "names"),
    [
        ("centre_clerk", ["王小明"]),
        ("unit_clerk", ["王小明"]),
        ("township_clerk", ["王小明"]),
        ("unit_b_clerk", []),
    ],
)
def test_the_failure_export_holds_only_the_users_people(client, world, payroll, persona, names):
    user = (
        UserFactory(username="unit_b", role="unit_clerk", region=None, employer=world.unit_b)
        if persona == "unit_b_clerk"
        else getattr(world, persona)
    )

    rows = _rows(_login(client, user).get(reverse("payments:failures_export")))

    assert [r[3] for r in rows[1:]] == names
    if names:
        assert rows[1][10] == "户名不符" and rows[1][4] == "甲单位" and rows[1][5] == "甲镇"
    assert AuditLog.objects.filter(action=actions.EXPORT, actor=user).count() == 1


def test_only_centre_roles_export_a_payroll(client, world, payroll):
    url = reverse("payments:payroll_export", args=[payroll.pk])

    for user in (world.unit_clerk, world.township_clerk, world.bank_clerk, world.cardholder):
        client.logout()
        assert _login(client, user).get(url).status_code == 403
    client.logout()
    assert _login(client, world.cardholder).get(reverse("payments:failures_export")).status_code == 403
    assert not AuditLog.objects.filter(action=actions.EXPORT).exists()

"""The payments API gives a person's statement and the failed payments, in the caller's scope, masked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shebao.accounts.services import token_create
from shebao.payments.services import return_file_import
from tests.payments.factories import filed, generate, return_bytes


def _key(world, user) -> str:  # type: ignore[no-untyped-def]
    from django.db import transaction

    with transaction.atomic():
        _t, key = token_create(actor=world.supervisor, user=user, name="测试")
    return key


def _get(client, url, key):  # type: ignore[no-untyped-def]
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def returned(pay, world):  # type: ignore[no-untyped-def]
    """June filed; A's line at bank A failed (户名不符), B's paid. July still a draft."""
    payroll = filed(pay, 202406)
    for bank_file in payroll.bank_files.all():
        failures = {1: "name_mismatch"} if bank_file.bank_id == world.bank_a.pk else {}
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file, failures=failures),
            file_name=f"r{bank_file.pk}.txt",
            actor=world.centre_clerk,
        )
    generate(pay, 202407)
    return payroll


def test_a_cardholder_reads_their_own_statement_unmasked(client, world, returned):  # type: ignore[no-untyped-def]
    body = _get(client, "/api/v1/payments/statements/mine", _key(world, world.cardholder)).json()

    line = returned.lines.get(person=world.person_a)
    assert body["person_name"] == "王小明" and body["ssn"] == world.person_a.ssn
    assert [(x["period"], x["amount"], x["result"]) for x in body["lines"]] == [
        (202406, "2345.60", "发放失败：户名不符")
    ]
    assert body["lines"][0]["account_no"] == line.account_no
    assert body["lines"][0]["batch_no"] == line.bank_file.batch_no
    assert body["paid_total"] == "0.00"


def test_a_paid_line_counts_to_the_fen(client, world, returned):  # type: ignore[no-untyped-def]
    body = _get(
        client, f"/api/v1/payments/statements/{world.person_b.pk}", _key(world, world.centre_clerk)
    ).json()

    assert [(x["period"], x["result"], x["kind_label"]) for x in body["lines"]] == [
        (202406, "已发放", "正常发放")
    ]
    assert Decimal(body["paid_total"]) == Decimal("1800.00")


@pytest.mark.parametrize(
    ("persona", "a", "b"),
    [
        ("centre_clerk", 200, 200),
        ("auditor", 200, 200),
        ("unit_clerk", 200, 403),
        ("township_clerk", 200, 403),
        ("bank_clerk", 200, 403),
        ("cardholder", 200, 403),
    ],
)
def test_statements_follow_the_data_scope(client, world, returned, persona, a, b):  # type: ignore[no-untyped-def]
    key = _key(world, getattr(world, persona))

    assert _get(client, f"/api/v1/payments/statements/{world.person_a.pk}", key).status_code == a
    response = _get(client, f"/api/v1/payments/statements/{world.person_b.pk}", key)
    assert response.status_code == b
    if b == 403:
        assert "李小红" not in response.content.decode()


def test_a_unit_clerk_sees_masked_numbers_and_no_own_statement(client, world, returned):  # type: ignore[no-untyped-def]
    key = _key(world, world.unit_clerk)
    body = _get(client, f"/api/v1/payments/statements/{world.person_a.pk}", key).json()

    full = returned.lines.get(person=world.person_a).account_no
    assert body["ssn"] != world.person_a.ssn and "*" in body["ssn"]
    assert body["lines"][0]["account_no"] != full and "*" in body["lines"][0]["account_no"]
    assert _get(client, "/api/v1/payments/statements/mine", key).status_code == 403


def test_failures_list_only_the_callers_people_with_the_reason(client, world, returned):  # type: ignore[no-untyped-def]
    unit = _get(client, "/api/v1/payments/failures", _key(world, world.unit_clerk)).json()
    centre = _get(client, "/api/v1/payments/failures?reason=name_mismatch", _key(world, world.centre_clerk))
    other_unit = _get(client, "/api/v1/payments/failures", _key(world, _unit_b_clerk(world))).json()

    assert [(x["person_name"], x["failure_reason"], x["amount"]) for x in unit["items"]] == [
        ("王小明", "户名不符", "2345.60")
    ]
    assert centre.json()["count"] == 1
    assert other_unit["count"] == 0
    assert (
        _get(client, "/api/v1/payments/failures?reason=nope", _key(world, world.centre_clerk)).status_code
        == 400
    )
    assert _get(client, "/api/v1/payments/failures", _key(world, world.cardholder)).status_code == 403


def _unit_b_clerk(world):  # type: ignore[no-untyped-def]
    from tests.factories import UserFactory

    return UserFactory(username="unit_b", role="unit_clerk", region=None, employer=world.unit_b)

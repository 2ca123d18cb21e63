from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.payments.models import EntitlementAmount, EntitlementChange
from shebao.payments.services import entitlement_change_decide, entitlement_change_request
from tests.factories import PASSWORD, UserFactory


def test_an_amount_change_takes_effect_only_when_another_person_approves(pay, world):
    change = entitlement_change_request(
        entitlement=pay.ent_a,
        kind="amount",
        amount="2500.00",
        period=202407,
        note="调待",
        actor=world.centre_clerk,
    )
    assert EntitlementAmount.objects.filter(entitlement=pay.ent_a).count() == 1

    entitlement_change_decide(change=change, approve=True, actor=world.supervisor)

    change.refresh_from_db()
    assert (change.state, change.decided_by) == ("approved", world.supervisor)
    assert list(
        EntitlementAmount.objects.filter(entitlement=pay.ent_a).values_list("valid_from", "amount")
    ) == [
        (202301, Decimal("2345.60")),
        (202407, Decimal("2500.00")),
    ]


def test_a_rejected_change_changes_nothing_and_a_decided_one_cannot_be_decided_again(pay, world):
    change = entitlement_change_request(
        entitlement=pay.ent_a, kind="suspend", reason="1202", period=202407, actor=world.centre_clerk
    )

    entitlement_change_decide(change=change, approve=False, note="材料不全", actor=world.supervisor)

    pay.ent_a.refresh_from_db()
    assert pay.ent_a.state == "active"
    other = UserFactory(username="supervisor2", role="centre_supervisor", region=world.region)
    with pytest.raises(StateError, match="已由他人复核"):
        entitlement_change_decide(change=change, approve=True, actor=other)


def test_the_maker_cannot_check_and_a_clerk_cannot_approve(pay, world):
    change = entitlement_change_request(
        entitlement=pay.ent_a, kind="terminate", reason="1406", period=202406, actor=world.centre_clerk
    )

    with pytest.raises(PermissionDenied):
        entitlement_change_decide(change=change, approve=True, actor=world.centre_clerk)
    maker_supervisor = UserFactory(username="sup_clerk", role="centre_supervisor", region=world.region)
    change.requested_by = maker_supervisor
    with pytest.raises(PermissionDenied, match="申请人本人"):
        entitlement_change_decide(change=change, approve=True, actor=maker_supervisor)


def test_a_change_is_checked_when_asked_and_one_waits_at_a_time(pay, world):
    with pytest.raises(ValidationError, match="原因代码"):
        entitlement_change_request(
            entitlement=pay.ent_a, kind="suspend", reason="1401", actor=world.centre_clerk
        )
    with pytest.raises(ValidationError, match="死亡登记"):  # death has its own flow: overpayments, family
        entitlement_change_request(
            entitlement=pay.ent_a, kind="terminate", reason="1401", period=202407, actor=world.centre_clerk
        )
    with pytest.raises(StateError, match="不能恢复发放"):
        entitlement_change_request(entitlement=pay.ent_a, kind="resume", actor=world.centre_clerk)
    entitlement_change_request(
        entitlement=pay.ent_a, kind="amount", amount="1.00", period=202407, actor=world.centre_clerk
    )
    with pytest.raises(StateError, match="待复核"):
        entitlement_change_request(
            entitlement=pay.ent_a, kind="amount", amount="2.00", period=202407, actor=world.centre_clerk
        )


def test_maker_and_checker_through_the_pages(client, pay, world):
    client.login(username=world.centre_clerk.username, password=PASSWORD)
    client.post(
        reverse("payments:entitlement_change", args=[pay.ent_b.pk]),
        {"kind": "suspend", "reason": "1202", "period": "202407", "note": "法院判决"},
    )
    change = EntitlementChange.objects.get()
    page = client.get(reverse("payments:entitlements")).content.decode()
    assert "待复核的待遇变更" in page and "通过" not in page
    client.logout()

    client.login(username=world.supervisor.username, password=PASSWORD)
    client.post(reverse("payments:entitlement_change_decide", args=[change.pk]), {"decision": "approve"})

    pay.ent_b.refresh_from_db()
    assert (pay.ent_b.state, pay.ent_b.reason, pay.ent_b.suspended_from) == ("suspended", "1202", 202407)
    assert client.get(reverse("payments:entitlement_change", args=[pay.ent_b.pk])).status_code == 403

"""Failure feedback: a switch the bank could not pay goes back to the unit, is fixed, and is approved again."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from shebao.accounts.roles import Role
from shebao.audit.models import AuditLog
from shebao.core.errors import StateError, ValidationError
from shebao.people.models import PaymentAccount
from shebao.switching.models import AccountChange, SwitchFailure
from shebao.switching.services import (
    account_change_approve,
    account_change_prepare,
    switch_failure_report,
    switch_failure_resubmit,
)
from tests.factories import UserFactory
from tests.switching.factories import NEW_ACCOUNT, beneficiary

pytestmark = pytest.mark.django_db
FIXED_ACCOUNT = "6217000000000000013"


def switched(world: Any) -> AccountChange:
    person = beneficiary(world.person_a)
    change = account_change_prepare(
        actor=world.centre_clerk, person=person, account_no=NEW_ACCOUNT, account_name="王晓明"
    )
    return account_change_approve(change_id=change.pk, actor=world.supervisor)


def test_it_sends_a_failed_switch_back_to_the_unit_and_through_approval_again(
    world: Any, client: Any
) -> None:
    change = switched(world)
    client.force_login(world.centre_clerk)
    response = client.post(
        reverse("switching:change_failure", args=[change.pk]),
        {"period": str(change.valid_from), "reason": "name_mismatch", "detail": "银行户名为王小明"},
    )
    assert response.status_code == 302
    failure = SwitchFailure.objects.get()
    assert (failure.employer, failure.reason, failure.state) == (world.unit_a, "name_mismatch", "open")

    client.force_login(world.unit_clerk)
    page = client.get(reverse("switching:my_forms")).content.decode()
    assert "户名不符" in page and world.person_a.name in page and "银行户名为王小明" in page

    clerk_b = UserFactory(username="unit_b", role=Role.UNIT_CLERK, region=None, employer=world.unit_b)
    client.force_login(clerk_b)
    assert "户名不符" not in client.get(reverse("switching:my_forms")).content.decode()
    refused = client.post(
        reverse("switching:failure_resubmit", args=[failure.pk]), {"account_no": FIXED_ACCOUNT}
    )
    assert refused.status_code == 403
    assert AuditLog.objects.filter(action="scope.denied", actor=clerk_b).exists()

    client.force_login(world.unit_clerk)
    with pytest.raises(ValidationError, match="不一致"):  # the bank refused the name: it must be the person's
        switch_failure_resubmit(
            actor=world.unit_clerk, failure_id=failure.pk, account_no=FIXED_ACCOUNT, account_name="王晓明"
        )
    client.post(
        reverse("switching:failure_resubmit", args=[failure.pk]),
        {"account_no": FIXED_ACCOUNT, "account_name": world.person_a.name, "note": "已更正户名"},
    )
    failure.refresh_from_db()
    assert failure.state == "resubmitted"
    again = failure.new_change
    assert (again.state, again.account_no, again.submitted_by, again.prepared_by) == (
        "submitted",
        FIXED_ACCOUNT,
        world.unit_clerk,
        None,
    )
    with pytest.raises(StateError):  # the unit's answer is not yet the centre's: a clerk checks it first
        account_change_approve(change_id=again.pk, actor=world.supervisor)
    client.force_login(world.centre_clerk)
    client.post(reverse("switching:change_check", args=[again.pk]), {"decision": "accept"})
    again.refresh_from_db()
    assert (again.state, again.prepared_by) == ("prepared", world.centre_clerk)
    account_change_approve(change_id=again.pk, actor=world.supervisor)
    rows = PaymentAccount.objects.filter(person=world.person_a, source="switch").order_by("id")
    assert [r.account_no for r in rows] == [NEW_ACCOUNT, FIXED_ACCOUNT]


def test_it_only_takes_failures_of_switches_in_effect_once(world: Any) -> None:
    person = beneficiary(world.person_a)
    pending = account_change_prepare(
        actor=world.centre_clerk, person=person, account_no=NEW_ACCOUNT, account_name=person.name
    )
    with pytest.raises(StateError):
        switch_failure_report(actor=world.centre_clerk, change_id=pending.pk, period=202612, reason="lost")
    change = account_change_approve(change_id=pending.pk, actor=world.supervisor)
    switch_failure_report(actor=world.centre_clerk, change_id=change.pk, period=202612, reason="lost")
    with pytest.raises(StateError, match="已有待处理"):
        switch_failure_report(
            actor=world.centre_clerk, change_id=change.pk, period=202612, reason="replacing"
        )

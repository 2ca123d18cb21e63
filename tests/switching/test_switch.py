"""Approval and the switch: a supervisor who did not prepare it approves; the card pays from next month."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from shebao.accounts.roles import Role
from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.period import next_period, period_of
from shebao.people.models import PaymentAccount
from shebao.people.selectors import account_effective
from shebao.switching.models import AccountChange, VerificationForm
from shebao.switching.selectors import fallback_account
from shebao.switching.services import (
    account_change_approve,
    account_change_prepare,
    form_check,
    form_review,
    switch_effective_period,
)
from tests.factories import UserFactory
from tests.switching.factories import (
    NEW_ACCOUNT,
    NOT_NOW,
    SWITCH,
    beneficiary,
    downloaded_rows,
    fill,
    setup_forms_world,
    upload,
    write_filled_xlsx,
)

pytestmark = pytest.mark.django_db


def returned_form(world: Any, client: Any, *, check: bool = True) -> tuple[VerificationForm, dict[str, Any]]:
    """The unit returned its form; with `check`, a centre clerk has reviewed it and prepared its changes."""
    data = setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {data["a"].name: (SWITCH, NEW_ACCOUNT, ""), data["a2"].name: (NOT_NOW, "", "卧床不起")},
    )
    assert upload(client, form, write_filled_xlsx(rows)).status_code == 302
    form.refresh_from_db()
    if check:
        form = form_check(form=form, actor=world.centre_clerk, accept=True)
    return form, data


def test_it_switches_from_the_month_after_submission_as_a_new_account_row(world: Any, client: Any) -> None:
    form, data = returned_form(world, client)
    person = data["a"]
    old = account_effective(person.pk, period_of(timezone.localdate()))
    change = account_change_approve(change_id=AccountChange.objects.get().pk, actor=world.supervisor)

    this_month = period_of(form.returned_on)
    assert change.valid_from == next_period(this_month)
    rows = list(PaymentAccount.objects.filter(person=person).order_by("valid_from", "id"))
    assert rows[0] == old and rows[0].account_no == old.account_no  # kept, never overwritten
    new = rows[-1]
    assert (new.kind, new.source, new.valid_from, new.account_no) == (
        "card",
        "switch",
        next_period(this_month),
        NEW_ACCOUNT,
    )
    assert account_effective(person.pk, this_month) == old
    assert account_effective(person.pk, next_period(this_month)) == new
    assert change.payment_account == new
    assert AuditLog.objects.filter(action="account.add", object_id=str(new.pk)).exists()


def test_it_keeps_the_old_account_as_fallback_for_six_months(world: Any, client: Any) -> None:
    form, data = returned_form(world, client)
    person = data["a"]
    old = account_effective(person.pk, period_of(form.returned_on))
    change = account_change_approve(change_id=AccountChange.objects.get().pk, actor=world.supervisor)
    start = change.valid_from
    assert fallback_account(person.pk, next_period(start, -1)) is None  # not switched yet
    assert fallback_account(person.pk, start) == old
    assert fallback_account(person.pk, next_period(start, 5)) == old
    assert fallback_account(person.pk, next_period(start, 6)) is None


def test_it_never_lets_the_preparer_approve(world: Any) -> None:
    person = beneficiary(world.person_a)
    change = account_change_prepare(
        actor=world.supervisor,
        person=person,
        account_no=NEW_ACCOUNT,
        account_name=person.name,
        bank=world.bank_a,
    )
    with pytest.raises(PermissionDenied, match="不能复核本人提交的变更"):
        account_change_approve(change_id=change.pk, actor=world.supervisor)
    with pytest.raises(PermissionDenied):
        account_change_approve(change_id=change.pk, actor=world.centre_clerk)  # not a supervisor
    other = UserFactory(username="supervisor2", role=Role.CENTRE_SUPERVISOR, region=world.region)
    assert account_change_approve(change_id=change.pk, actor=other).state == "approved"
    account_change_prepare(
        actor=world.centre_clerk, person=person, account_no=NEW_ACCOUNT, account_name=person.name
    )
    with pytest.raises(StateError, match="已有待复核"):
        account_change_prepare(
            actor=world.centre_clerk, person=person, account_no=NEW_ACCOUNT, account_name=person.name
        )


def test_it_lets_one_of_two_supervisors_approving_at_once_win(world: Any) -> None:
    person = beneficiary(world.person_a)
    change = account_change_prepare(
        actor=world.centre_clerk, person=person, account_no=NEW_ACCOUNT, account_name=person.name
    )
    other = UserFactory(username="supervisor2", role=Role.CENTRE_SUPERVISOR, region=world.region)
    # Both saw the change as prepared; the second approval arrives after the first was committed.
    account_change_approve(change_id=change.pk, actor=world.supervisor)
    with pytest.raises(StateError, match="已被他人处理"):
        account_change_approve(change_id=change.pk, actor=other)
    assert PaymentAccount.objects.filter(person=person, source="switch").count() == 1
    assert AccountChange.objects.get().decided_by == world.supervisor


@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_concurrent_approval_take_effect(world: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises every writer)")
    person = beneficiary(world.person_a)
    change = account_change_prepare(
        actor=world.centre_clerk, person=person, account_no=NEW_ACCOUNT, account_name=person.name
    )
    other = UserFactory(username="supervisor2", role=Role.CENTRE_SUPERVISOR, region=world.region)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor: Any) -> None:
        try:
            barrier.wait()
            account_change_approve(change_id=change.pk, actor=actor)
            outcomes.append("ok")
        except StateError:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (world.supervisor, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost", "ok"]
    assert PaymentAccount.objects.filter(person=person, source="switch").count() == 1


def test_it_never_reaches_back_into_a_period_already_begun() -> None:
    assert (
        switch_effective_period(submitted_on=dt.date(2026, 1, 10), approved_on=dt.date(2026, 1, 20)) == 202602
    )
    assert (
        switch_effective_period(submitted_on=dt.date(2026, 1, 10), approved_on=dt.date(2026, 3, 2)) == 202603
    )
    assert (
        switch_effective_period(submitted_on=dt.date(2026, 12, 31), approved_on=dt.date(2026, 12, 31))
        == 202701
    )


def test_it_approves_or_sends_back_a_whole_form(world: Any, client: Any) -> None:
    form, data = returned_form(world, client)
    with pytest.raises(ValidationError):
        form_review(form=form, actor=world.supervisor, approve=False, note="")
    form = form_review(form=form, actor=world.supervisor, approve=False, note="扫描件未盖章")
    assert form.state == "rejected"
    assert AccountChange.objects.get().state == "rejected"
    # the unit fixes it and uploads again: a new proposal, approved with the form
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {data["a"].name: (SWITCH, NEW_ACCOUNT, "已盖章"), data["a2"].name: (NOT_NOW, "", "卧床不起")},
    )
    assert upload(client, form, write_filled_xlsx(rows)).status_code == 302
    form = VerificationForm.objects.get(pk=form.pk)
    with pytest.raises(StateError, match="尚待中心经办员审核"):
        form_review(form=form, actor=world.supervisor, approve=True)
    form = form_check(form=form, actor=world.centre_clerk, accept=True)
    form = form_review(form=form, actor=world.supervisor, approve=True)
    assert form.state == "approved"
    assert list(AccountChange.objects.order_by("pk").values_list("state", flat=True)) == [
        "rejected",
        "approved",
    ]
    new = AccountChange.objects.order_by("pk").last()
    assert (new.submitted_by, new.prepared_by, new.decided_by) == (
        world.unit_clerk,
        world.centre_clerk,
        world.supervisor,
    )


def test_it_puts_a_centre_clerk_between_the_unit_and_the_supervisor(world: Any, client: Any) -> None:
    form, data = returned_form(world, client, check=False)
    change = AccountChange.objects.get()
    assert (form.state, change.state, change.prepared_by) == ("returned", "submitted", None)
    # the supervisor cannot approve the unit's answers in one click, neither the form nor a change
    with pytest.raises(StateError):
        form_review(form=form, actor=world.supervisor, approve=True)
    with pytest.raises(StateError):
        account_change_approve(change_id=change.pk, actor=world.supervisor)
    # only a centre clerk checks; the unit clerk and the supervisor cannot
    for who in (world.unit_clerk, world.supervisor):
        with pytest.raises(PermissionDenied):
            form_check(form=form, actor=who, accept=True)
    client.force_login(world.supervisor)
    assert (
        reverse("switching:form_review", args=[form.pk])
        not in client.get(reverse("switching:form", args=[form.pk])).content.decode()
    )
    # the clerk sends it back with a reason: the unit answers again
    with pytest.raises(ValidationError):
        form_check(form=form, actor=world.centre_clerk, accept=False, note="")
    client.force_login(world.centre_clerk)
    response = client.post(
        reverse("switching:form_check", args=[form.pk]), {"decision": "reject", "note": "甲二须注明病情证明"}
    )
    assert response.status_code == 302
    form.refresh_from_db()
    change.refresh_from_db()
    assert (form.state, form.review_note, change.state) == ("rejected", "甲二须注明病情证明", "rejected")
    assert AuditLog.objects.filter(action="switching.form_reject", actor=world.centre_clerk).exists()
    # returned again, checked by the clerk, then the form is the supervisor's
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {data["a"].name: (SWITCH, NEW_ACCOUNT, ""), data["a2"].name: (NOT_NOW, "", "卧床不起，附病历")},
    )
    assert upload(client, form, write_filled_xlsx(rows)).status_code == 302
    client.force_login(world.centre_clerk)
    client.post(reverse("switching:form_check", args=[form.pk]), {"decision": "accept"})
    form.refresh_from_db()
    assert (form.state, form.checked_by) == ("checked", world.centre_clerk)
    assert AuditLog.objects.filter(action="switching.change_prepare", actor=world.centre_clerk).count() == 1
    client.force_login(world.supervisor)
    page = client.get(reverse("switching:form", args=[form.pk])).content.decode()
    assert reverse("switching:form_review", args=[form.pk]) in page
    client.post(reverse("switching:form_review", args=[form.pk]), {"decision": "approve"})
    form.refresh_from_db()
    assert form.state == "approved"


def test_it_refuses_the_checking_clerk_as_approver(world: Any, client: Any) -> None:
    form, _ = returned_form(world, client)
    # a clerk promoted to supervisor meanwhile is still the maker of this form's changes
    type(world.centre_clerk).objects.filter(pk=world.centre_clerk.pk).update(role=Role.CENTRE_SUPERVISOR)
    world.centre_clerk.refresh_from_db()
    with pytest.raises(PermissionDenied, match="不能复核本人审核"):
        form_review(form=form, actor=world.centre_clerk, approve=True)


def test_it_shows_the_queue_to_supervisors_and_prints_the_notice(world: Any, client: Any) -> None:
    returned_form(world, client)
    change = AccountChange.objects.get()
    client.force_login(world.unit_clerk)
    assert client.get(reverse("switching:changes")).status_code == 403
    client.force_login(world.supervisor)
    page = client.get(reverse("switching:changes")).content.decode()
    assert world.person_a.name in page and "通过" in page
    response = client.post(reverse("switching:change_decide", args=[change.pk]), {"decision": "approve"})
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.state == "approved"
    notice = client.get(reverse("switching:change_notice", args=[change.pk])).content.decode()
    assert "保留6个月" in notice and world.person_a.name in notice
    assert f"{change.valid_from // 100}年" in notice


def test_a_form_sent_back_after_its_deadline_gets_a_new_one(world: Any, client: Any) -> None:
    from shebao.switching.services import form_deadline

    form, _ = returned_form(world, client, check=False)
    kept = form.deadline
    assert kept is not None and kept >= timezone.localdate()
    form = form_check(form=form, actor=world.centre_clerk, accept=False, note="缺盖章")
    assert form.deadline == kept  # sent back in time: the unit keeps its deadline

    VerificationForm.objects.filter(pk=form.pk).update(
        state=VerificationForm.State.CHECKED, deadline=dt.date(2020, 1, 15)
    )
    form.refresh_from_db()
    form = form_review(form=form, actor=world.supervisor, approve=False, note="扫描件不清晰")
    assert (form.state, form.deadline) == ("rejected", form_deadline(timezone.localdate()))

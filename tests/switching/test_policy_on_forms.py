"""The person's own request and the rollout policy count outside the automatic switch too: on the forms
units and townships get, and when a supervisor approves a change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from shebao.core.errors import StateError
from shebao.switching.automatic import rollout_switches_prepare
from shebao.switching.models import AccountChange, VerificationForm, VerificationLine
from shebao.switching.services import (
    account_change_approve,
    account_change_prepare,
    forms_generate,
    switch_preference_record,
)
from tests.switching.test_rollout_apply import _world

pytestmark = pytest.mark.django_db


def test_it_lists_on_forms_only_whom_the_policy_would_switch(world: Any, tmp_path: Path) -> None:
    people = _world(world, tmp_path)
    forms_generate(actor=world.centre_clerk, period=202611)
    listed = set(VerificationLine.objects.values_list("person_id", flat=True))
    # under 70: listed; 70 and over: only when they asked; asked to stay: never; exempt: never
    assert listed == {people["young"].pk, people["old_asks"].pk, people["no_activation"].pk}


def test_it_lists_someone_who_changes_their_mind(world: Any, tmp_path: Path) -> None:
    people = _world(world, tmp_path)
    switch_preference_record(
        actor=world.centre_clerk, person=people["young_stays"], choice="switch", asked_on=dt.date(2026, 2, 1)
    )
    switch_preference_record(
        actor=world.centre_clerk, person=people["old_asks"], choice="stay", asked_on=dt.date(2026, 2, 1)
    )
    forms_generate(actor=world.centre_clerk, period=202611)
    listed = set(VerificationLine.objects.values_list("person_id", flat=True))
    assert people["young_stays"].pk in listed and people["old_asks"].pk not in listed


def test_it_refuses_to_switch_someone_who_asked_to_stay(world: Any, tmp_path: Path) -> None:
    people = _world(world, tmp_path)
    person = people["young_stays"]
    change = account_change_prepare(
        actor=world.centre_clerk, person=person, account_no="6228480000000000018", account_name=person.name
    )
    with pytest.raises(StateError, match="本人已申请维持原账户"):
        account_change_approve(change_id=change.pk, actor=world.supervisor)
    change.refresh_from_db()
    assert change.state == "prepared" and change.payment_account is None
    switch_preference_record(
        actor=world.centre_clerk, person=person, choice="switch", asked_on=dt.date(2026, 3, 1)
    )
    assert account_change_approve(change_id=change.pk, actor=world.supervisor).state == "approved"


def test_the_rollout_leaves_people_on_an_open_form_to_their_unit(world: Any, tmp_path: Path) -> None:
    people = _world(world, tmp_path)
    forms_generate(actor=world.centre_clerk, period=202611)
    assert VerificationForm.objects.get().state == "generated"
    counts = rollout_switches_prepare(actor=world.centre_clerk, period=202611)
    assert counts["prepared"] == 0 and not AccountChange.objects.exists()
    VerificationForm.objects.update(state=VerificationForm.State.APPROVED)  # the unit's form is done
    assert rollout_switches_prepare(actor=world.centre_clerk, period=202611)["prepared"] == 2
    assert set(AccountChange.objects.values_list("person_id", flat=True)) == {
        people["young"].pk,
        people["old_asks"].pk,
    }

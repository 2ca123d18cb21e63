"""A township's month of intake is reviewed as a batch: the centre clerk ticks the rows and checks them at
once, a supervisor approves the ticked rows at once; each goes through the same service as one by one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.audit.models import AuditLog
from shebao.switching import actions
from shebao.switching.intake import township_intake_mark_activated, township_intake_record, township_submit
from shebao.switching.models import AccountChange
from shebao.switching.services import switch_preference_record
from tests.factories import PersonFactory
from tests.switching.factories import PDF_SCAN, beneficiary

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32


def _submitted(world: Any, names: list[str]) -> list[AccountChange]:
    """One walk-in per name at township A, activated, submitted as the month's batch."""
    for i, name in enumerate(names):
        person = beneficiary(
            PersonFactory(region=world.region, employer=None, township=world.town_a, name=name)
        )
        intake = township_intake_record(
            actor=world.township_clerk,
            ssn=person.ssn,
            card_no=f"A1234567{i}",
            account_no=f"622848000000000{i:04d}",
            account_name=name,
            bank_name=world.bank_a.name,
            fin_activated=False,
            card_photo=SimpleUploadedFile("card.jpg", JPEG, content_type="image/jpeg"),
            id_photo=SimpleUploadedFile("id.jpg", JPEG, content_type="image/jpeg"),
        )
        township_intake_mark_activated(actor=world.township_clerk, intake_id=intake.pk)
    township_submit(actor=world.township_clerk, scan_file=SimpleUploadedFile("s.pdf", PDF_SCAN))
    return list(AccountChange.objects.filter(state="submitted").order_by("pk"))


def test_the_centre_checks_and_the_supervisor_approves_a_month_of_intake_at_once(
    world: Any, client: Any
) -> None:
    changes = _submitted(world, ["乡甲", "乡乙", "乡丙"])
    ids = [c.pk for c in changes]

    client.force_login(world.centre_clerk)
    page = client.get(reverse("switching:changes") + "?state=submitted").content.decode()
    assert 'data-check-all="ids"' in page and f'name="ids" value="{ids[0]}"' in page
    response = client.post(reverse("switching:change_batch"), {"decision": "check", "ids": ids[:2]})
    assert response.status_code == 302
    states = dict(AccountChange.objects.values_list("pk", "state"))
    assert [states[pk] for pk in ids] == ["prepared", "prepared", "submitted"]
    assert "审核通过，已提交复核 2 条" in client.get(response.url).content.decode()

    client.force_login(world.supervisor)
    response = client.post(reverse("switching:change_batch"), {"decision": "approve", "ids": ids[:2]})
    assert response.status_code == 302
    approved = AccountChange.objects.filter(pk__in=ids[:2])
    assert {c.state for c in approved} == {"approved"}
    assert all(c.payment_account is not None and c.decided_by == world.supervisor for c in approved)
    assert AuditLog.objects.filter(action=actions.CHANGE_APPROVE).count() == 2


def test_a_row_the_service_refuses_is_named_and_the_others_go_through(world: Any, client: Any) -> None:
    changes = _submitted(world, ["乡甲", "乡乙"])
    ids = [c.pk for c in changes]
    client.force_login(world.centre_clerk)
    client.post(reverse("switching:change_batch"), {"decision": "check", "ids": ids})
    # One of them asked to stay on the old account after the township submitted.
    stays = changes[1].person.name
    switch_preference_record(
        actor=world.centre_clerk, person=changes[1].person, choice="stay", asked_on=dt.date(2026, 11, 20)
    )

    client.force_login(world.supervisor)
    response = client.post(reverse("switching:change_batch"), {"decision": "approve", "ids": ids})

    page = client.get(response.url).content.decode()
    assert "复核通过 1 条" in page and f"{stays}：" in page and "维持原账户" in page
    states = dict(AccountChange.objects.values_list("pk", "state"))
    assert (states[ids[0]], states[ids[1]]) == ("approved", "prepared")


def test_the_batch_keeps_roles_and_maker_checker(world: Any, client: Any) -> None:
    changes = _submitted(world, ["乡甲"])
    ids = [c.pk for c in changes]

    client.force_login(world.township_clerk)  # a township cannot check its own submission
    assert (
        client.post(reverse("switching:change_batch"), {"decision": "check", "ids": ids}).status_code == 403
    )
    client.force_login(world.centre_clerk)  # a clerk cannot approve
    assert (
        client.post(reverse("switching:change_batch"), {"decision": "approve", "ids": ids}).status_code == 403
    )
    assert AccountChange.objects.get(pk=ids[0]).state == "submitted"

    response = client.post(reverse("switching:change_batch"), {"decision": "check", "ids": []})
    assert "请先勾选" in client.get(response.url).content.decode()

"""Progress and deadlines: coverage per unit and township, overdue forms to chase."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.core.values.period import period_of
from shebao.switching.models import AccountChange, VerificationForm
from shebao.switching.selectors import overdue_forms, progress_by_org
from tests.switching.factories import setup_forms_world

pytestmark = pytest.mark.django_db


def test_it_counts_coverage_forms_and_overdue_per_unit_and_township(world: Any) -> None:
    setup_forms_world(world, period=period_of(timezone.localdate()))
    today = timezone.localdate()
    late = VerificationForm.objects.get(employer=world.unit_b)
    VerificationForm.objects.filter(pk=late.pk).update(
        state="downloaded", downloaded_on=today - dt.timedelta(days=60), deadline=today - dt.timedelta(days=3)
    )
    rows = {r["name"]: r for r in progress_by_org(world.centre_clerk, period=period_of(today), today=today)}
    # 甲单位: 王小明, 甲二, 已用卡 (card); 离休 is exempt (paid as before), so not in the denominator
    assert (rows["甲单位"]["total"], rows["甲单位"]["on_card"], rows["甲单位"]["coverage"]) == (3, 1, 33.3)
    assert (rows["乙单位"]["issued"], rows["乙单位"]["overdue"]) == (1, 1)
    assert (rows["甲镇"]["kind"], rows["甲镇"]["total"]) == ("township", 1)
    assert list(overdue_forms(world.centre_clerk, today)) == [late]


def test_it_shows_the_progress_page_to_the_centre_only(world: Any, client: Any) -> None:
    setup_forms_world(world, period=period_of(timezone.localdate()))
    client.force_login(world.supervisor)
    page = client.get(reverse("switching:progress")).content.decode()
    assert "覆盖率" in page and "甲单位" in page and "chart-coverage" in page
    client.force_login(world.unit_clerk)
    assert client.get(reverse("switching:progress")).status_code == 403


def test_a_form_never_downloaded_falls_due_from_the_day_it_was_issued(world: Any) -> None:
    from shebao.switching.services import form_deadline

    setup_forms_world(world, period=period_of(timezone.localdate()))
    form = VerificationForm.objects.get(employer=world.unit_b)
    issued = timezone.localdate(form.generated_at)
    assert (form.state, form.deadline) == ("generated", form_deadline(issued))
    later = form.deadline + dt.timedelta(days=1)
    assert form in overdue_forms(world.centre_clerk, later)
    assert form not in overdue_forms(world.centre_clerk, form.deadline)
    rows = {r["name"]: r for r in progress_by_org(world.centre_clerk, period=period_of(later), today=later)}
    assert rows["乙单位"]["overdue"] == 1


def test_it_counts_every_switch_for_whoever_brought_it(world: Any, client: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shebao.switching.intake import township_intake_record, township_submit
    from shebao.switching.services import (
        account_change_approve,
        account_change_check,
        account_change_prepare,
        form_check,
        form_review,
    )
    from tests.switching.factories import (
        NEW_ACCOUNT,
        NOT_NOW,
        PDF_SCAN,
        SWITCH,
        downloaded_rows,
        fill,
        upload,
        write_filled_xlsx,
    )

    data = setup_forms_world(world, period=period_of(timezone.localdate()))
    # by form: 王小明 of 甲单位
    form = VerificationForm.objects.get(employer=world.unit_a)
    upload(
        client,
        form,
        write_filled_xlsx(
            fill(
                downloaded_rows(client, world.unit_clerk, form),
                {data["a"].name: (SWITCH, NEW_ACCOUNT, ""), data["a2"].name: (NOT_NOW, "", "卧床不起")},
            )
        ),
    )
    form_review(
        form=form_check(form=form, actor=world.centre_clerk, accept=True),
        actor=world.supervisor,
        approve=True,
    )
    # by hand (or the automatic rollout): 李小红 of 乙单位
    b = data["b"]
    by_hand = account_change_prepare(
        actor=world.centre_clerk, person=b, account_no=NEW_ACCOUNT, account_name=b.name
    )
    account_change_approve(change_id=by_hand.pk, actor=world.supervisor)
    # by township intake: the villager of 甲镇
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
    township_intake_record(
        actor=world.township_clerk,
        ssn=data["village"].ssn,
        card_no="A12345678",
        account_no=NEW_ACCOUNT,
        account_name=data["village"].name,
        fin_activated=True,
        card_photo=SimpleUploadedFile("c.jpg", jpeg),
        id_photo=SimpleUploadedFile("i.jpg", jpeg),
    )
    township_submit(actor=world.township_clerk, scan_file=SimpleUploadedFile("s.pdf", PDF_SCAN))
    intake_change = account_change_check(
        change_id=AccountChange.objects.get(person=data["village"]).pk, actor=world.centre_clerk, accept=True
    )
    account_change_approve(change_id=intake_change.pk, actor=world.supervisor)
    today = timezone.localdate()
    rows = {r["name"]: r for r in progress_by_org(world.centre_clerk, period=period_of(today), today=today)}
    assert (rows["甲单位"]["switched"], rows["乙单位"]["switched"], rows["甲镇"]["switched"]) == (1, 1, 1)

    # 王小明's card account failed; his unit sent a fixed account, approved: still one person switched
    from shebao.switching.services import switch_failure_report, switch_failure_resubmit

    first = AccountChange.objects.get(person=data["a"], state="approved")
    failure = switch_failure_report(
        actor=world.centre_clerk, change_id=first.pk, period=period_of(today), reason="lost"
    )
    fixed = switch_failure_resubmit(
        actor=world.unit_clerk,
        failure_id=failure.pk,
        account_no="6217000000000000013",
        account_name=data["a"].name,
    )
    account_change_check(change_id=fixed.pk, actor=world.centre_clerk, accept=True)
    account_change_approve(change_id=fixed.pk, actor=world.supervisor)
    rows = {r["name"]: r for r in progress_by_org(world.centre_clerk, period=period_of(today), today=today)}
    assert rows["甲单位"]["switched"] == 1

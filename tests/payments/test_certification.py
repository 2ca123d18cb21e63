from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shebao.core.errors import StateError
from shebao.payments.models import BackPay, Certification, Entitlement
from shebao.payments.services import (
    certification_record,
    certification_sweep,
    entitlement_amount_change,
    payroll_approve,
)
from tests.payments.factories import generate


@pytest.fixture
def certified(pay, world):
    """A last certified on 2023-06-30 (overdue at the end of June 2024), B on 2023-07-01 (still in time)."""
    for person, day in ((world.person_a, dt.date(2023, 6, 30)), (world.person_b, dt.date(2023, 7, 1))):
        certification_record(person=person, channel="counter", certified_on=day, actor=world.centre_clerk)
    return pay


def _sweep(world, period=202406):  # type: ignore[no-untyped-def]
    return certification_sweep(region=world.region, period=period, actor=world.centre_clerk)


def _kinds(payroll):  # type: ignore[no-untyped-def]
    return sorted(payroll.lines.values_list("person__name", "period", "kind", "amount"))


def test_an_overdue_recipient_is_suspended_from_the_next_month(certified, world):
    assert _sweep(world) == 1

    ent = Entitlement.objects.get(person=world.person_a)
    assert (ent.state, ent.reason, ent.suspended_from) == ("suspended", "1201", 202407)
    assert {n for n, *_ in _kinds(generate(certified, 202406))} == {"王小明", "李小红"}
    assert {n for n, *_ in _kinds(generate(certified, 202407))} == {"李小红"}
    assert _sweep(world) == 0  # running it again changes nothing


def test_a_recipient_never_certified_counts_from_the_start_of_the_entitlement(pay, world):
    assert _sweep(world, 202312) == 0  # started 202301: the twelve months run to the end of December
    assert _sweep(world, 202401) == 2  # never certified since
    assert Entitlement.objects.filter(state="suspended", suspended_from=202402).count() == 2


def test_certifying_late_resumes_payment_and_back_pays_the_missed_months_as_separate_lines(certified, world):
    _sweep(world)
    entitlement_amount_change(
        entitlement=certified.ent_a, amount="2400.00", valid_from=202408, actor=world.centre_clerk
    )

    outcome = certification_record(
        person=world.person_a,
        channel="mobile_app",
        certified_on=dt.date(2024, 9, 15),
        actor=world.centre_clerk,
    )

    assert (outcome.resumed, outcome.back_pay_months) == (1, 3)
    assert Entitlement.objects.get(person=world.person_a).state == "active"
    september = generate(certified, 202409)
    assert [k for k in _kinds(september) if k[0] == "王小明"] == [
        ("王小明", 202407, "back_pay", Decimal("2345.60")),
        ("王小明", 202408, "back_pay", Decimal("2400.00")),
        ("王小明", 202409, "normal", Decimal("2400.00")),
    ]
    # Regenerating the draft keeps the back pay; the next month has none.
    assert _kinds(generate(certified, 202409)) == _kinds(september)
    payroll_approve(payroll=september, actor=world.supervisor)
    assert [k[2] for k in _kinds(generate(certified, 202410))] == ["normal", "normal"]
    assert BackPay.objects.get().payroll == september


def test_every_channel_is_recorded_and_a_deceased_person_cannot_certify(pay, world):
    for channel, _ in Certification.Channel.choices:
        certification_record(person=world.person_b, channel=channel, actor=world.township_clerk)
    assert Certification.objects.filter(person=world.person_b).count() == 5

    world.person_a.death_date = dt.date(2024, 1, 1)
    with pytest.raises(StateError, match="死亡"):
        certification_record(person=world.person_a, channel="counter", actor=world.centre_clerk)


def test_a_township_clerk_sees_their_people_due_and_records_a_home_visit(client, pay, world):
    from django.urls import reverse

    from tests.factories import PASSWORD

    assert client.login(username=world.township_clerk.username, password=PASSWORD)
    url = reverse("payments:certification")

    page = client.get(url).content.decode()
    assert "王小明" in page and "李小红" not in page and "从未认证" in page

    client.post(url, {"ssn": world.person_a.ssn, "channel": "home_visit", "certified_on": "2024-06-01"})
    page = client.post(
        url, {"ssn": world.person_b.ssn, "channel": "home_visit", "certified_on": "2024-06-01"}
    ).content.decode()

    assert list(Certification.objects.values_list("person__name", "channel")) == [("王小明", "home_visit")]
    assert "没有该社会保障号码的人员" in page


def test_overdue_people_are_listed_and_a_unit_clerk_may_only_look(client, certified, world):
    from django.urls import reverse

    from tests.factories import PASSWORD

    _sweep(world)
    assert client.login(username=world.unit_clerk.username, password=PASSWORD)
    url = reverse("payments:certification")

    assert "王小明" in client.get(url + "?status=overdue").content.decode()
    response = client.post(
        url, {"ssn": world.person_a.ssn, "channel": "counter", "certified_on": "2024-06-01"}
    )
    assert response.status_code == 403


def test_a_month_already_back_paid_is_left_out_of_a_later_generated_payroll(certified, world):
    _sweep(world)
    certification_record(
        person=world.person_a, channel="counter", certified_on=dt.date(2024, 9, 15), actor=world.centre_clerk
    )
    payroll_approve(payroll=generate(certified, 202409), actor=world.supervisor)  # back-pays July and August

    august = generate(certified, 202408)  # generated late: A's August went with the back pay

    assert [k[0] for k in _kinds(august)] == ["李小红"]


def test_the_sweep_runs_from_the_page_and_the_command(client, pay, world):
    from io import StringIO

    from django.core.management import call_command
    from django.urls import reverse

    from tests.factories import PASSWORD

    assert client.login(username=world.supervisor.username, password=PASSWORD)
    response = client.post(reverse("payments:certification_sweep"), follow=True)
    assert "2项待遇自下月起暂停发放" in response.content.decode()  # never certified since 202301

    out = StringIO()
    call_command("certification_sweep", "--period", "202611", "--as", "clerk", stdout=out)
    assert "0项" in out.getvalue()


def test_a_late_recorded_certification_back_pays_the_months_paid_without_the_person_since(certified, world):
    """Seen alive on 28 June (a data match), recorded only after July's payroll was approved without the
    person: July is owed, although it lies after the certification's own month."""
    _sweep(world)  # A suspended from 202407
    payroll_approve(payroll=generate(certified, 202407), actor=world.supervisor)
    outcome = certification_record(
        person=world.person_a,
        channel="data_match",
        certified_on=dt.date(2024, 6, 28),
        actor=world.centre_clerk,
    )
    payroll_approve(payroll=generate(certified, 202408), actor=world.supervisor)
    assert outcome.back_pay_months == 1
    august = generate(certified, 202409)
    assert [k for k in _kinds(august) if k[0] == "王小明"] == [
        ("王小明", 202409, "normal", Decimal("2345.60"))
    ]
    lines = sorted(
        Entitlement.objects.get(person=world.person_a).person.payment_lines.values_list("period", "kind")
    )
    assert lines == [(202407, "back_pay"), (202408, "normal"), (202409, "normal")]

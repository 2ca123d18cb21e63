from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from shebao.accounts.roles import Role
from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.payments import actions
from shebao.payments.deaths import death_correct
from shebao.payments.models import BackPay, Overpayment, PaymentLine
from shebao.payments.reconciliation import payroll_reconcile
from shebao.payments.services import death_record, return_file_import
from tests.factories import UserFactory
from tests.payments.factories import approved, filed, generate, return_bytes


def _paid(pay, world, period):  # type: ignore[no-untyped-def]
    payroll = filed(pay, period)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll,
            data=return_bytes(bank_file),
            file_name=f"r{period}.txt",
            actor=world.centre_clerk,
        )
    return payroll


def test_clearing_a_wrong_death_cancels_the_overpayment_and_pays_the_next_month(pay, world):
    _paid(pay, world, 202406)
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    over = Overpayment.objects.get()

    fixed = death_correct(
        person=world.person_a, death_date=None, reason="认错人，民政更正函12号", actor=world.supervisor
    )

    world.person_a.refresh_from_db()
    pay.ent_a.refresh_from_db()
    over.refresh_from_db()
    assert world.person_a.death_date is None
    assert (pay.ent_a.state, pay.ent_a.reason, pay.ent_a.to_period) == ("active", "", None)
    assert (over.state, over.get_state_display()) == ("cancelled", "已撤销")
    assert fixed.overpayments_cancelled == 1
    july = generate(pay, 202407)
    assert july.lines.get(person=world.person_a).amount == Decimal("2345.60")


def test_months_run_while_wrongly_dead_are_back_paid_in_the_next_payroll(pay, world):
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    june = filed(pay, 202406)
    assert not june.lines.filter(person=world.person_a).exists()

    fixed = death_correct(
        person=world.person_a, death_date=None, reason="死亡信息误报", actor=world.supervisor
    )

    assert fixed.back_pay_months == 1
    july = generate(pay, 202407)
    lines = sorted(july.lines.filter(person=world.person_a).values_list("period", "kind", "amount"))
    assert lines == [(202406, "back_pay", Decimal("2345.60")), (202407, "normal", Decimal("2345.60"))]


def test_lines_held_for_the_death_in_an_approved_payroll_are_released(pay, world):
    june = approved(pay, 202406)
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 2), actor=world.centre_clerk)
    assert PaymentLine.objects.get(payroll=june, person=world.person_a).hold_code == "death"

    fixed = death_correct(person=world.person_a, death_date=None, reason="误报", actor=world.supervisor)

    line = PaymentLine.objects.get(payroll=june, person=world.person_a)
    assert (line.state, line.hold_code, fixed.released) == ("pending", "", 1)
    assert not BackPay.objects.exists()  # June is paid by its own line, not twice
    payroll_reconcile(june)


def test_a_later_date_pays_the_months_up_to_it_and_stops_again(pay, world):
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    filed(pay, 202406)

    fixed = death_correct(
        person=world.person_a, death_date=dt.date(2024, 6, 15), reason="日期登记错误", actor=world.supervisor
    )

    world.person_a.refresh_from_db()
    pay.ent_a.refresh_from_db()
    assert world.person_a.death_date == dt.date(2024, 6, 15)
    assert (pay.ent_a.state, pay.ent_a.reason, pay.ent_a.to_period) == ("terminated", "1401", 202406)
    assert fixed.back_pay_months == 1
    july = generate(pay, 202407)
    assert list(july.lines.filter(person=world.person_a).values_list("period", "kind")) == [
        (202406, "back_pay")
    ]


def test_an_earlier_date_turns_the_month_paid_after_it_into_an_overpayment(pay, world):
    _paid(pay, world, 202406)
    death_record(person=world.person_a, death_date=dt.date(2024, 6, 10), actor=world.centre_clerk)
    assert not Overpayment.objects.exists()

    death_correct(
        person=world.person_a, death_date=dt.date(2024, 5, 10), reason="日期登记错误", actor=world.supervisor
    )

    over = Overpayment.objects.get()
    pay.ent_a.refresh_from_db()
    assert (over.state, over.line.period, pay.ent_a.to_period) == ("open", 202406, 202405)


def test_only_a_supervisor_other_than_the_recorder_corrects(pay, world):
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    with pytest.raises(PermissionDenied):
        death_correct(person=world.person_a, death_date=None, reason="误报", actor=world.centre_clerk)
    with pytest.raises(ValidationError, match="原因"):
        death_correct(person=world.person_a, death_date=None, reason=" ", actor=world.supervisor)

    death_correct(
        person=world.person_a, death_date=dt.date(2024, 4, 30), reason="日期有误", actor=world.supervisor
    )
    # The supervisor's corrected date is now their record: a second correction needs another person.
    with pytest.raises(PermissionDenied, match="另一名复核员"):
        death_correct(person=world.person_a, death_date=None, reason="再次更正", actor=world.supervisor)
    other = UserFactory(username="supervisor2", role=Role.CENTRE_SUPERVISOR, region=world.region)
    death_correct(person=world.person_a, death_date=None, reason="再次更正", actor=other)

    world.person_a.refresh_from_db()
    assert world.person_a.death_date is None
    rows = AuditLog.objects.filter(action=actions.DEATH_CORRECT, object_id=str(world.person_a.pk)).order_by(
        "pk"
    )
    assert [(r.actor_id, r.new["death_date"]) for r in rows] == [
        (world.supervisor.pk, "2024-04-30"),
        (other.pk, None),
    ]
    assert rows[0].old["death_date"] == "2024-05-20" and rows[0].reason == "日期有误"


def test_a_person_without_a_death_cannot_be_corrected(pay, world):
    with pytest.raises(StateError, match="没有死亡登记"):
        death_correct(person=world.person_a, death_date=None, reason="误报", actor=world.supervisor)


def test_a_supervisor_corrects_through_the_death_page(client, pay, world):
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    url = reverse("payments:death_correct")
    client.force_login(world.centre_clerk)
    assert "death-correct-form" not in client.get(reverse("payments:death_record")).content.decode()
    assert client.post(url, {"correct": "1", "ssn": world.person_a.ssn, "reason": "误报"}).status_code == 403

    client.force_login(world.supervisor)
    page = client.get(url).content.decode()
    assert "death-correct-form" in page and "death-form" not in page.replace("death-correct-form", "")
    response = client.post(
        url, {"correct": "1", "ssn": world.person_a.ssn, "death_date": "", "reason": "误报"}, follow=True
    )

    assert "已更正" in response.content.decode()
    world.person_a.refresh_from_db()
    assert world.person_a.death_date is None


def test_a_suspended_entitlement_is_suspended_again_and_its_months_stay_unpaid(pay, world):
    from shebao.payments.models import Entitlement

    Entitlement.objects.filter(pk=pay.ent_a.pk).update(
        state="suspended", reason="1201", suspended_from=202406
    )
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    filed(pay, 202406)

    fixed = death_correct(person=world.person_a, death_date=None, reason="误报", actor=world.supervisor)

    pay.ent_a.refresh_from_db()
    assert (pay.ent_a.state, pay.ent_a.reason, pay.ent_a.suspended_from) == ("suspended", "1201", 202406)
    assert fixed.back_pay_months == 0  # suspended from June: certifying later back-pays it


def test_a_fixed_term_entitlement_gets_its_end_back(pay, world):
    from shebao.payments.models import Entitlement

    Entitlement.objects.filter(pk=pay.ent_a.pk).update(to_period=202412)
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    filed(pay, 202406)

    fixed = death_correct(person=world.person_a, death_date=None, reason="误报", actor=world.supervisor)

    pay.ent_a.refresh_from_db()
    assert (pay.ent_a.state, pay.ent_a.to_period, fixed.back_pay_months) == ("active", 202412, 1)

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied, StateError
from shebao.payments.models import Payroll
from shebao.payments.services import payroll_approve, payroll_generate
from tests.factories import UserFactory
from tests.payments.factories import generate


def test_it_approves_and_records_the_control_totals(pay, world):
    payroll = payroll_approve(payroll=generate(pay), actor=world.supervisor)

    assert payroll.state == "approved" and payroll.approved_by == world.supervisor
    assert (payroll.control_count, payroll.control_total) == (2, Decimal("4145.60"))
    assert AuditLog.objects.filter(action="payroll.approve", object_id=str(payroll.pk)).count() == 1


def test_the_preparer_cannot_approve_their_own_payroll(pay, world):
    payroll = payroll_generate(
        region=world.region, period=202406, benefit_type=pay.pension, actor=world.supervisor
    )

    with pytest.raises(PermissionDenied, match="制表人"):
        payroll_approve(payroll=payroll, actor=world.supervisor)

    payroll.refresh_from_db()
    assert payroll.state == "draft"


def test_a_clerk_cannot_approve(pay, world):
    with pytest.raises(PermissionDenied):
        payroll_approve(payroll=generate(pay), actor=world.centre_clerk)


def test_two_supervisors_approving_the_same_page_give_one_approval(pay, world):
    other = UserFactory(username="supervisor2", role="centre_supervisor", region=world.region)
    payroll = generate(pay)
    stale = Payroll.objects.get(pk=payroll.pk)  # the second supervisor's page, loaded before the first click

    payroll_approve(payroll=payroll, actor=world.supervisor)
    with pytest.raises(StateError, match="已由"):
        payroll_approve(payroll=stale, actor=other)

    payroll.refresh_from_db()
    assert payroll.approved_by == world.supervisor
    assert AuditLog.objects.filter(action="payroll.approve").count() == 1


def test_an_empty_payroll_cannot_be_approved(pay, world):
    payroll = payroll_generate(
        region=world.region, period=202201, benefit_type=pay.pension, actor=world.centre_clerk
    )

    with pytest.raises(StateError, match="没有任何明细"):
        payroll_approve(payroll=payroll, actor=world.supervisor)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_concurrent_approvals_on_postgresql_give_one_approval(pay, world):
    other = UserFactory(username="supervisor2", role="centre_supervisor", region=world.region)
    payroll = generate(pay)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user):  # type: ignore[no-untyped-def]
        from django.db import connections

        try:
            barrier.wait()
            payroll_approve(payroll=Payroll.objects.get(pk=payroll.pk), actor=user)
            outcomes.append("ok")
        except StateError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (world.supervisor, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["ok", "refused"]
    assert AuditLog.objects.filter(action="payroll.approve").count() == 1

"""Races on PostgreSQL with real threads: two supervisors reviewing one form, two sweeps of one return file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from shebao.accounts.roles import Role
from shebao.core.errors import StateError
from shebao.switching.models import AccountChange, SwitchFailure, VerificationForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each outcome is its result or the StateError it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = calls[i]()
        except StateError as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (SQLite serialises every writer)")


def test_two_supervisors_reviewing_one_form_at_once_one_review_takes_effect(world: Any, client: Any) -> None:
    from shebao.switching.services import form_review
    from tests.switching.test_switch import returned_form

    form, _data = returned_form(world, client)
    other = UserFactory(username="supervisor2", role=Role.CENTRE_SUPERVISOR, region=world.region)
    outcomes = at_once(
        [
            lambda: form_review(form=form, actor=world.supervisor, approve=True),
            lambda: form_review(form=form, actor=other, approve=False, note="扫描件不清晰"),
        ]
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["StateError", "VerificationForm"]
    form = VerificationForm.objects.get(pk=form.pk)
    change = AccountChange.objects.get()
    # whichever won, the form and its change agree, and at most one card account was added
    assert (form.state, change.state) in {("approved", "approved"), ("rejected", "rejected")}
    assert (change.payment_account_id is not None) == (form.state == "approved")


def test_two_sweeps_of_one_return_file_at_once_record_the_failure_once(world: Any) -> None:
    from django.db.models.signals import post_save

    from shebao.audit.models import AuditLog
    from shebao.payments.models import ReturnFile
    from shebao.switching.automatic import switch_failures_from_returns
    from shebao.switching.signals import return_file_imported
    from tests.switching.test_return_failures import _filed_payroll, _reject

    payroll, _change = _filed_payroll(world)
    # Here the import commits for real: without its trigger, so that the two sweeps find the failure.
    post_save.disconnect(sender=ReturnFile, dispatch_uid="switching.return_file_imported")
    try:
        _reject(world, payroll, {world.person_a: "lost"})
    finally:
        post_save.connect(
            return_file_imported, sender=ReturnFile, dispatch_uid="switching.return_file_imported"
        )
    assert not SwitchFailure.objects.exists()
    outcomes = at_once([lambda: switch_failures_from_returns(actor=world.centre_clerk) for _ in range(2)])
    assert sorted(outcomes) == [0, 1]
    assert SwitchFailure.objects.count() == 1
    assert AuditLog.objects.filter(action="switching.failure_report").count() == 1


def test_two_comparisons_at_once_both_finish_and_each_keeps_its_own_result(world: Any, tmp_path: Any) -> None:
    from shebao.switching.cardsources import FileCardSource
    from shebao.switching.comparison import card_extract_import, comparison_create, comparison_execute
    from shebao.switching.models import ComparisonResult
    from tests.switching.factories import beneficiary, card_row, write_card_xlsx

    person = beneficiary(world.person_a)
    runs = []
    for activated in (True, False):
        path = write_card_xlsx(tmp_path / f"cards_{activated}.xlsx", [card_row(person, activated=activated)])
        extract = card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
        runs.append(
            comparison_create(
                region=world.region, source_description=path.name, actor=world.centre_clerk, extract=extract
            )
        )
    # first runs (each partition new), then re-runs (each replaces its own): they queue, neither deadlocks
    for _ in range(2):
        outcomes = at_once(
            [lambda run=run: comparison_execute(run=run, actor=world.centre_clerk) for run in runs]
        )
        assert [o.state for o in outcomes] == ["done", "done"]
    assert [ComparisonResult.objects.get(run=run, person=person).klass for run in runs] == [
        "matched_activated",
        "matched_not_activated",
    ]

from __future__ import annotations

import pytest

from shebao.core.errors import PermissionDenied, StateError
from shebao.payments.models import PaymentLine
from shebao.payments.preflight import PREFLIGHT_HOOKS
from shebao.payments.services import (
    name_whitelist_add,
    name_whitelist_confirm,
    payroll_file,
    payroll_preflight,
)
from tests.factories import AccountFactory
from tests.payments.factories import approved, generate


def _line(payroll, person):  # type: ignore[no-untyped-def]
    return PaymentLine.objects.get(payroll=payroll, person=person)


@pytest.fixture
def mismatch(pay, world):
    """From 202406 person A is paid into an account whose name the bank spells 王晓明."""
    AccountFactory(person=world.person_a, bank=world.bank_a, account_name="王晓明", valid_from=202406)
    return pay


def test_it_holds_a_line_whose_account_name_differs_from_the_person(mismatch, world):
    line = _line(generate(mismatch), world.person_a)

    assert line.state == "held"
    assert "王晓明" in line.hold_reason and "不符" in line.hold_reason
    assert _line(generate(mismatch), world.person_b).state == "pending"


def test_a_name_that_differs_only_in_form_is_not_held(pay, world):
    world.person_b.name = "买买提·艾力"
    world.person_b.save()
    AccountFactory(person=world.person_b, bank=world.bank_b, account_name="买买提.艾力", valid_from=202406)

    assert _line(generate(pay), world.person_b).state == "pending"


def test_the_whitelist_releases_a_held_line(mismatch, world):
    payroll = approved(mismatch)
    assert _line(payroll, world.person_a).state == "held"

    entry = name_whitelist_add(
        person=world.person_a, spelling="王晓明", note="本人核实，银行户名为王晓明", actor=world.centre_clerk
    )
    # The clerk's entry alone releases nothing: a supervisor (not the clerk) confirms it first.
    assert _line(payroll, world.person_a).state == "held"
    with pytest.raises(PermissionDenied):
        name_whitelist_confirm(entry=entry, actor=world.centre_clerk)
    name_whitelist_confirm(entry=entry, actor=world.supervisor)

    line = _line(payroll, world.person_a)
    assert (line.state, line.hold_reason) == ("pending", "")
    files = payroll_file(payroll=payroll, actor=world.centre_clerk)
    assert sum(f.control_count for f in files) == 2


def test_held_lines_never_reach_a_bank_file(mismatch, world):
    payroll = approved(mismatch)

    files = payroll_file(payroll=payroll, actor=world.centre_clerk)

    assert [f.bank for f in files] == [world.bank_b]
    held = _line(payroll, world.person_a)
    assert held.state == "held" and held.bank_file is None


@pytest.fixture
def fake_card_hook():
    def lost_cards(lines):  # type: ignore[no-untyped-def]
        for pk in lines.filter(person__name="李小红").values_list("pk", flat=True):
            yield pk, "card_lost", "社保卡已挂失"

    PREFLIGHT_HOOKS.append(lost_cards)
    yield lost_cards
    PREFLIGHT_HOOKS.remove(lost_cards)


def test_a_hook_from_another_app_holds_lines(pay, world, fake_card_hook):
    payroll = generate(pay)

    line = _line(payroll, world.person_b)
    assert (line.state, line.hold_code, line.hold_reason) == ("held", "preflight:card_lost", "社保卡已挂失")

    PREFLIGHT_HOOKS.remove(fake_card_hook)
    try:
        payroll_preflight(payroll=payroll, actor=world.centre_clerk)
    finally:
        PREFLIGHT_HOOKS.append(fake_card_hook)
    assert _line(payroll, world.person_b).state == "pending"


@pytest.fixture
def lost_new_card(world):
    """From 202405 A is paid into a new card account at bank B; the (fake) cards hook says it is lost."""
    from shebao.payments.preflight import FALLBACK

    AccountFactory(
        person=world.person_a, bank=world.bank_b, account_no="6230000000000000011", valid_from=202405
    )

    def lost(lines):  # type: ignore[no-untyped-def]
        for pk in lines.filter(person=world.person_a, account_no="6230000000000000011").values_list(
            "pk", flat=True
        ):
            yield pk, "card_lost", "社保卡已挂失", FALLBACK

    PREFLIGHT_HOOKS.append(lost)
    yield
    PREFLIGHT_HOOKS.remove(lost)


def test_a_lost_new_card_is_paid_into_the_old_account_within_six_months(pay, world, lost_new_card):
    payroll = generate(pay, 202406)

    line = _line(payroll, world.person_a)
    assert (line.state, line.bank, line.account_no) == (
        "pending",
        world.bank_a,
        world.person_a.accounts.first().account_no,
    )
    assert "按原账户发放" in line.route_note
    payroll_preflight(payroll=payroll, actor=world.centre_clerk)  # running it again keeps the routing
    assert _line(payroll, world.person_a).account_no == line.account_no


def test_after_six_months_a_lost_card_is_held_for_a_clerk(pay, world, lost_new_card):
    line = _line(generate(pay, 202411), world.person_a)

    assert (line.state, line.hold_code, line.account_no) == (
        "held",
        "preflight:card_lost",
        "6230000000000000011",
    )


def test_an_approved_line_is_never_rerouted_only_held(pay, world, lost_new_card):
    PREFLIGHT_HOOKS.append(lambda lines: ())  # placeholder keeps the list shape; the lost hook is active
    try:
        from shebao.payments.models import Payroll

        payroll = generate(pay, 202406)
        PaymentLine.objects.filter(payroll=payroll).update(
            route_note=""
        )  # as if routed before the card was lost
        Payroll.objects.filter(pk=payroll.pk).update(state="approved")
        PaymentLine.objects.filter(payroll=payroll, person=world.person_a).update(
            account_no="6230000000000000011", bank=world.bank_b
        )
        payroll.refresh_from_db()
        payroll_preflight(payroll=payroll, actor=world.centre_clerk)
    finally:
        PREFLIGHT_HOOKS.pop()

    line = _line(payroll, world.person_a)
    assert (line.state, line.account_no) == ("held", "6230000000000000011")


def test_a_supervisor_who_recorded_a_spelling_needs_another_to_confirm_it(mismatch, world):
    from shebao.accounts.roles import Role
    from tests.factories import UserFactory

    payroll = approved(mismatch)
    entry = name_whitelist_add(person=world.person_a, spelling="王晓明", actor=world.supervisor)
    with pytest.raises(PermissionDenied, match="另一名复核员"):
        name_whitelist_confirm(entry=entry, actor=world.supervisor)
    assert _line(payroll, world.person_a).state == "held"

    other = UserFactory(username="supervisor2", role=Role.CENTRE_SUPERVISOR, region=world.region)
    name_whitelist_confirm(entry=entry, actor=other)
    with pytest.raises(StateError, match="已确认"):
        name_whitelist_confirm(entry=entry, actor=other)
    assert _line(payroll, world.person_a).state == "pending"

"""Death → family: the funeral grant and survivor pension (人社部发〔2021〕18号) computed from the rule's
inputs, paid to a family member through one-off entitlements and the normal payroll cycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from shebao.core.errors import PermissionDenied, StateError, ValidationError
from shebao.core.values.ssn import make_ssn
from shebao.payments.models import BenefitType, Entitlement, Overpayment, PaymentLine, SurvivorClaim
from shebao.payments.services import (
    bank_file_bytes,
    death_record,
    payroll_approve,
    payroll_file,
    payroll_generate,
    return_file_import,
)
from shebao.payments.survivors import survivor_claim_create, survivor_claim_decide
from tests.factories import PASSWORD
from tests.payments.factories import filed, return_bytes

ACCOUNT = "6222020200011112222"


def _recipient_ssn(world, seq: int = 7) -> str:  # type: ignore[no-untyped-def]
    return make_ssn(world.region.code, dt.date(1975, 3, 4), seq)


def _recorded(world, **kwargs):  # type: ignore[no-untyped-def]
    args = {
        "deceased": world.person_a,
        "actor": world.centre_clerk,
        "base_monthly_income": "4000.00",
        "contribution_months": 360,  # 30 years
        "pension_months": 60,  # 5 years of pension
        "recipient_ssn": _recipient_ssn(world),
        "recipient_name": "王大明",
        "relation": SurvivorClaim.Relation.CHILD,
        "bank": world.bank_b,
        "account_no": ACCOUNT,
    }
    args.update(kwargs)
    return survivor_claim_create(**args)


def _claim(world, **kwargs):  # type: ignore[no-untyped-def]
    """Recorded by the clerk and approved by the supervisor (maker-checker)."""
    return survivor_claim_decide(claim=_recorded(world, **kwargs), approve=True, actor=world.supervisor)


def _dead(world) -> None:  # type: ignore[no-untyped-def]
    death_record(person=world.person_a, death_date=dt.date(2024, 5, 20), actor=world.centre_clerk)
    world.person_a.refresh_from_db()


def test_the_rule_gives_the_amounts_and_the_family_is_paid_through_the_normal_cycle(pay, world):
    _dead(world)

    claim = _claim(world)

    # funeral grant = 2 × 4000; months = 9 + (30 − 15) − 5 = 19; survivor pension = 19 × 4000
    assert (claim.funeral_grant, claim.survivor_months, claim.survivor_pension) == (
        Decimal("8000.00"),
        Decimal("19.00"),
        Decimal("76000.00"),
    )
    recipient = claim.recipient
    assert (recipient.name, claim.account.account_no, claim.account.bank) == ("王大明", ACCOUNT, world.bank_b)
    assert claim.funeral_entitlement.person == recipient
    assert claim.funeral_entitlement.to_period == claim.funeral_entitlement.from_period == claim.period

    funeral = BenefitType.objects.get(code="FUNERAL")
    payroll = payroll_generate(
        region=world.region, period=claim.period, benefit_type=funeral, actor=world.centre_clerk
    )
    line = payroll.lines.get()
    assert (line.person, line.amount, line.account_no, line.state) == (
        recipient,
        Decimal("8000.00"),
        ACCOUNT,
        "pending",
    )
    with pytest.raises(PermissionDenied):  # maker-checker: the preparer cannot approve
        payroll_approve(payroll=payroll, actor=world.centre_clerk)
    payroll_approve(payroll=payroll, actor=world.supervisor)
    (bank_file,) = payroll_file(payroll=payroll, actor=world.centre_clerk)
    data = bank_file_bytes(bank_file).decode("gbk")
    assert f"D|1|{ACCOUNT}|王大明|8000.00|01|{recipient.ssn}|FUNERAL|{claim.period}\r\n" in data
    return_file_import(
        payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
    )
    line.refresh_from_db()
    assert line.state == "paid"
    # Paid to the living recipient: not an overpayment of the deceased.
    assert not Overpayment.objects.exists()


def test_a_retiree_never_gets_fewer_than_nine_months(pay, world):
    _dead(world)

    claim = _claim(world, contribution_months=180, pension_months=240)

    assert (claim.survivor_months, claim.survivor_pension) == (Decimal("9.00"), Decimal("36000.00"))


def test_open_overpayments_are_offset_against_the_funeral_grant(pay, world):
    payroll = filed(pay, 202406)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
        )
    _dead(world)  # died in May: June (2345.60) was overpaid
    over = Overpayment.objects.get()

    claim = _claim(world, offset_overpayments=True)

    assert claim.offset_amount == Decimal("2345.60")
    assert Entitlement.objects.get(pk=claim.funeral_entitlement_id).amounts.get().amount == Decimal("5654.40")
    assert claim.survivor_entitlement.amounts.get().amount == Decimal("76000.00")
    over.refresh_from_db()
    assert over.state == "offset" and over.reference == f"丧葬抚恤核定{claim.pk}"


def test_refusals_write_nothing(pay, world):
    with pytest.raises(StateError, match="尚未登记死亡"):
        _claim(world)
    _dead(world)
    with pytest.raises(ValidationError, match="不能是死亡人员本人"):
        _claim(world, recipient_ssn=world.person_a.ssn, recipient_name="王小明")
    with pytest.raises(ValidationError, match="姓名与该社会保障号码登记的姓名"):
        _claim(world, recipient_ssn=world.person_b.ssn, recipient_name="王大明")
    # Person B already has an account: another one is refused (it would move B's own pension).
    with pytest.raises(ValidationError, match="已登记发放账户"):
        _claim(world, recipient_ssn=world.person_b.ssn, recipient_name="李小红")
    with pytest.raises(PermissionDenied):
        _claim(world, actor=world.supervisor)
    with pytest.raises(ValidationError, match="银行账号"):
        _claim(world, account_no="12AB")
    assert (
        not SurvivorClaim.objects.exists()
        and not Entitlement.objects.filter(benefit_type__code__in=["FUNERAL", "SURVIVOR"]).exists()
    )

    claim = _claim(world, recipient_ssn=world.person_b.ssn, recipient_name="李小红", account_no="")
    assert claim.recipient == world.person_b and claim.account.person == world.person_b
    with pytest.raises(StateError, match="不能重复核定"):
        _claim(world)


def _login(client, user):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_clerk_computes_and_records_the_claim_on_the_page(client, pay, world):
    c = _login(client, world.centre_clerk)
    page = c.post(
        reverse("payments:death_record"),
        {"ssn": world.person_a.ssn, "death_date": "2024-05-20", "source": "亲属报告"},
        follow=True,
    ).content.decode()
    assert "丧葬补助金和抚恤金" in page and 'id="survivor-form"' in page
    form = {
        "base_monthly_income": "4000",
        "contribution_months": "360",
        "pension_months": "60",
        "recipient_ssn": _recipient_ssn(world),
        "recipient_name": "王大明",
        "relation": "child",
        "bank": world.bank_b.pk,
        "account_no": ACCOUNT,
    }
    url = reverse("payments:survivor_claim", args=[world.person_a.pk])

    page = c.post(url, {**form, "preview": "1"}).content.decode()
    assert "8,000.00" in page and "76,000.00" in page and "84,000.00" in page
    assert not SurvivorClaim.objects.exists()

    page = c.post(url, {**form, "confirm": "1"}, follow=True).content.decode()
    assert 'id="survivor-claim"' in page and "王大明" in page and "已核定" in page
    assert SurvivorClaim.objects.get().recipient.name == "王大明"
    assert "已核定，查看" in c.get(reverse("payments:death_record")).content.decode()

    page = c.post(url, {**form, "confirm": "1"}).content.decode()  # shown, not recorded twice
    assert SurvivorClaim.objects.count() == 1


def test_the_page_refuses_bad_input_and_is_for_the_centre_only(client, pay, world):
    _dead(world)
    url = reverse("payments:survivor_claim", args=[world.person_a.pk])
    c = _login(client, world.centre_clerk)

    response = c.post(
        url,
        {
            "base_monthly_income": "-5",
            "contribution_months": "360",
            "pension_months": "0",
            "recipient_ssn": _recipient_ssn(world),
            "recipient_name": "王大明",
            "relation": "child",
            "confirm": "1",
        },
    )
    assert response.status_code == 400 and not SurvivorClaim.objects.exists()

    c.logout()
    assert _login(client, world.unit_clerk).get(url).status_code == 403
    assert not PaymentLine.objects.filter(benefit_type__code="FUNERAL").exists()


def test_a_claim_grants_nothing_until_another_person_approves_it(pay, world):
    _dead(world)
    claim = _recorded(world)

    assert claim.state == "pending" and claim.funeral_entitlement is None
    assert not Entitlement.objects.filter(benefit_type__code__in=["FUNERAL", "SURVIVOR"]).exists()
    with pytest.raises(PermissionDenied):  # a clerk cannot approve, not even their own claim
        survivor_claim_decide(claim=claim, approve=True, actor=world.centre_clerk)
    from shebao.accounts.roles import Role
    from tests.factories import UserFactory

    SurvivorClaim.objects.filter(pk=claim.pk).update(created_by=world.supervisor)
    with pytest.raises(PermissionDenied, match="自己核定"):
        survivor_claim_decide(claim=claim, approve=True, actor=world.supervisor)
    other = UserFactory(username="supervisor2", role=Role.CENTRE_SUPERVISOR, region=world.region)

    survivor_claim_decide(claim=claim, approve=True, actor=other)

    assert (claim.state, claim.decided_by) == ("approved", other)
    assert claim.funeral_entitlement.amounts.get().amount == Decimal("8000.00")
    assert claim.survivor_entitlement.amounts.get().amount == Decimal("76000.00")
    with pytest.raises(StateError, match="已复核"):
        survivor_claim_decide(claim=claim, approve=False, actor=other)


def test_a_claim_sent_back_grants_nothing_and_may_be_recorded_again(pay, world):
    _dead(world)
    claim = _recorded(world)

    survivor_claim_decide(claim=claim, approve=False, note="缴费月数有误", actor=world.supervisor)

    assert claim.state == "rejected"
    assert not Entitlement.objects.filter(benefit_type__code__in=["FUNERAL", "SURVIVOR"]).exists()
    again = _claim(world, contribution_months=300)  # 9 + (25 − 15) − 5
    assert again.state == "approved" and again.survivor_months == Decimal("14.00")


def test_an_offset_is_refused_at_approval_when_the_overpayments_changed(pay, world):
    payroll = filed(pay, 202406)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
        )
    _dead(world)
    claim = _recorded(world, offset_overpayments=True)
    from shebao.payments.services import overpayment_settle

    overpayment_settle(
        overpayment=Overpayment.objects.get(),
        to_state="refunded",
        reference="退款1",
        actor=world.centre_clerk,
    )

    with pytest.raises(StateError, match="多发待遇已有变化"):
        survivor_claim_decide(claim=claim, approve=True, actor=world.supervisor)
    assert not Entitlement.objects.filter(benefit_type__code="FUNERAL").exists()


def test_a_supervisor_approves_the_claim_on_its_page(client, pay, world):
    _dead(world)
    _recorded(world)
    url = reverse("payments:survivor_claim", args=[world.person_a.pk])
    c = _login(client, world.centre_clerk)
    assert "survivor-decide-form" not in c.get(url).content.decode()
    c.logout()
    c = _login(client, world.supervisor)
    assert "survivor-decide-form" in c.get(url).content.decode()

    page = c.post(
        reverse("payments:survivor_claim_decide", args=[world.person_a.pk]),
        {"decision": "approve"},
        follow=True,
    ).content.decode()

    assert "已复核通过" in page
    assert SurvivorClaim.objects.get().funeral_entitlement is not None

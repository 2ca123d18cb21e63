"""The demo county also has cards, entitlements, certifications and payrolls, consistent with each other."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from shebao.cards.models import Card, CardMovement
from shebao.cards.selectors import delta_expr
from shebao.payments.models import Entitlement, PaymentLine, Payroll
from shebao.payments.reconciliation import payroll_reconcile
from shebao.people.models import PaymentAccount
from tests.demo.test_seed import AS_OF


@pytest.fixture
def seeded(db: None) -> None:
    call_command("seed", "--persons", "400", "--seed", "5", "--as-of", AS_OF.isoformat(), stdout=StringIO())


def test_it_gives_cards_in_many_states_with_a_consistent_ledger(seeded: None) -> None:
    states = dict(Card.objects.values_list("state").annotate(n=Count("id")))
    assert states["issued"] > states.get("in_stock", 0) > 0
    assert len(states) >= 5
    # Stock derived from the ledger is never negative, and every in-stock card lies at exactly one place.
    balances = (
        CardMovement.objects.values("card_id", "location_id")
        .annotate(n=Sum(delta_expr()))
        .values_list("n", flat=True)
    )
    assert min(balances) >= 0
    for card in Card.objects.filter(state="in_stock"):
        held = (
            CardMovement.objects.filter(card=card)
            .values("location_id")
            .annotate(n=Sum(delta_expr()))
            .filter(n__gt=0)
        )
        assert held.count() == 1


def test_a_person_paid_on_the_card_holds_an_activated_card_with_that_account(seeded: None) -> None:
    for account in PaymentAccount.objects.filter(kind="card", person__death_date__isnull=True)[:50]:
        # (a campaign member also has a new-generation application, not yet produced)
        card = Card.objects.exclude(state="applied").get(person_id=account.person_id)
        assert card.state == "issued" and card.fin_activated_at is not None
        assert card.bank_account == account.account_no


def test_it_seeds_entitlements_and_a_filed_payroll_that_reconciles(seeded: None) -> None:
    assert Entitlement.objects.exists()
    filed = Payroll.objects.get(state="filed")
    assert Payroll.objects.filter(state="draft").count() == 1
    assert filed.bank_files.exists()
    figures = payroll_reconcile(filed)  # raises when anything does not add up to the fen
    assert figures.issued.count == PaymentLine.objects.filter(payroll=filed).count() > 0
    assert figures.pending.count + figures.held.count == figures.issued.count


def test_it_seeds_a_replacement_campaign_with_a_unit_phase_applied(seeded: None) -> None:
    from shebao.campaigns.models import Campaign, CampaignMember, CampaignPhase

    campaign = Campaign.objects.get()
    assert (campaign.old_generation, campaign.new_generation) == (2, 3)
    assert CampaignPhase.objects.get(campaign=campaign, group="unit_proxy").outlet is not None
    assert CampaignPhase.objects.filter(campaign=campaign).count() == 2
    proxy = CampaignPhase.objects.get(campaign=campaign, group="unit_proxy")
    members = CampaignMember.objects.filter(phase=proxy)
    assert members.exists()
    # every member of the unit phase has a third-generation application waiting for the factory
    new_cards = Card.objects.filter(generation=3, person_id__in=members.values("person_id"), state="applied")
    assert new_cards.count() == members.count()


def test_it_seeds_a_comparison_the_forms_of_this_month_and_a_notice(seeded: None) -> None:
    from shebao.switching.models import ComparisonRun, Notice, VerificationForm, VerificationLine

    run = ComparisonRun.objects.get()
    assert run.source_kind == "own_cards"
    forms = VerificationForm.objects.all()
    assert forms.exists()
    # a person with a unit is on the unit's form, one without on the township's
    for line in VerificationLine.objects.select_related("form", "person")[:200]:
        if line.person.employer_id:
            assert line.form.employer_id == line.person.employer_id
        else:
            assert line.form.township_id == line.person.township_id
    assert Notice.objects.count() == 1


def test_every_card_waiting_for_the_factory_has_an_application_with_a_photo(seeded: None) -> None:
    from shebao.cards.models import CardApplication

    waiting = Card.objects.filter(state__in=("applied", "production_failed"))
    assert waiting.exists()
    assert not waiting.filter(application__isnull=True).exists()
    assert not CardApplication.objects.filter(photo="").exists()
    app = CardApplication.objects.exclude(photo="").first()
    assert app is not None
    with app.photo.open("rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_the_demo_clerk_can_send_the_waiting_cards_to_the_factory(seeded: None, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from shebao.accounts.models import User
    from shebao.cards.services import production_file_write

    clerk = User.objects.get(username="clerk")
    applied = Card.objects.filter(state="applied").count()
    production_file_write(actor=clerk, directory=tmp_path)
    assert Card.objects.filter(state="applied").count() == 0 < applied

from __future__ import annotations

from django.urls import reverse

from shebao.payments.services import return_file_import
from tests.factories import PASSWORD
from tests.payments.factories import filed, generate, return_bytes


def _login(client, user):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_a_cardholder_sees_what_was_paid_when_and_to_which_account(client, pay, world):
    payroll = filed(pay, 202406)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
        )
    generate(pay, 202407)  # a draft is not a payment yet
    account_no = payroll.lines.get(person=world.person_a).account_no
    c = _login(client, world.cardholder)

    page = c.get(reverse("payments:my_statement")).content.decode()

    assert "2024年6月" in page and "2,345.60" in page and "已发放" in page and account_no in page
    assert "2024年7月" not in page
    assert c.get(reverse("payments:statement", args=[world.person_b.pk])).status_code == 403


def test_statements_follow_the_data_scope(client, pay, world):
    filed(pay, 202406)
    c = _login(client, world.unit_clerk)

    page = c.get(reverse("payments:statement", args=[world.person_a.pk])).content.decode()
    assert "银行处理中" in page
    assert c.get(reverse("payments:statement", args=[world.person_b.pk])).status_code == 403
    assert c.get(reverse("payments:my_statement")).status_code == 403


def test_the_person_page_links_to_the_statement(client, pay, world):
    c = _login(client, world.unit_clerk)
    page = c.get(reverse("people:detail", args=[world.person_a.pk])).content.decode()
    assert 'id="statement-link"' in page and reverse("payments:statement", args=[world.person_a.pk]) in page

"""A cardholder's start page answers: where is my card, what do I do next, where is my money paid."""

from __future__ import annotations

from shebao.cards.models import CardState
from tests.cards.factories import make_card


def test_it_tells_the_holder_where_to_pick_up_their_card(client, world):  # type: ignore[no-untyped-def]
    make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    make_card(world.person_b, world.bank_b, CardState.PRODUCED)
    client.force_login(world.cardholder)

    body = client.get("/").content.decode()

    assert "我的社保卡" in body and "网点待领" in body
    assert "请本人携带身份证到" in body and world.outlet_a.name in body
    assert "李小红" not in body  # only the holder's own records


def test_it_asks_to_activate_the_financial_function_of_an_issued_card(client, world):  # type: ignore[no-untyped-def]
    make_card(world.person_a, world.bank_a, CardState.ISSUED, outlet=world.outlet_a)
    client.force_login(world.cardholder)

    body = client.get("/").content.decode()

    assert "金融功能尚未激活" in body and world.bank_a.name in body


def test_it_shows_the_account_benefits_are_paid_into(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.cardholder)

    body = client.get("/").content.decode()

    account = world.person_a.accounts.get()
    assert account.account_no in body  # the holder's own account, in full
    assert "暂无发放记录" in body


def test_it_keeps_the_clerks_workbench_for_other_roles(client, world):  # type: ignore[no-untyped-def]
    client.force_login(world.unit_clerk)

    body = client.get("/").content.decode()

    assert "管辖范围内人员" in body and "我的社保卡" not in body

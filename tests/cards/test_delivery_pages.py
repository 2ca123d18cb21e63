"""Each new mode is in the menu of the role that performs it, and closed to the others."""

from __future__ import annotations

import pytest

from shebao.cards.models import CardRecall, CardState
from tests.cards.factories import make_card

NEW_ITEMS = [
    "领卡通知",
    "本单位集中领卡",
    "进村发放",
    "邮寄领卡",
    "邮寄审核",
    "临时卡",
    "废卡销毁",
    "文件销毁记录",
]

MENUS = {
    "centre_clerk": {"领卡通知", "进村发放", "邮寄审核", "临时卡", "废卡销毁", "文件销毁记录"},
    "bank_clerk": {"领卡通知", "进村发放", "临时卡", "文件销毁记录"},
    "township_clerk": {"领卡通知", "进村发放", "临时卡", "文件销毁记录"},
    "cardholder": {"邮寄领卡"},
    "unit_clerk": {"本单位集中领卡"},
}


def _menu(client) -> set[str]:  # type: ignore[no-untyped-def]
    html = client.get("/").content.decode()
    nav = html[html.index('class="sidebar"') : html.index("</nav>", html.index('class="sidebar"'))]
    return {label for label in NEW_ITEMS if f">{label}<" in nav}


@pytest.mark.parametrize("persona", sorted(MENUS))
def test_it_shows_each_role_its_own_new_entries(client, world, persona) -> None:
    client.force_login(getattr(world, persona))
    assert _menu(client) == MENUS[persona]


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("bank_clerk", "/cards/mail/review/"),
        ("cardholder", "/cards/destruction/"),
        ("unit_clerk", "/cards/village/"),
        ("unit_clerk", "/cards/temp/"),
        ("centre_clerk", "/cards/mail/"),
    ],
)
def test_it_refuses_a_page_to_a_role_that_does_not_perform_it(client, world, persona, url) -> None:
    client.force_login(getattr(world, persona))
    assert client.get(url).status_code == 403


def test_it_recalls_a_deceased_holders_card_as_waste_from_the_card_page(client, world) -> None:
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)
    client.force_login(world.bank_clerk)
    client.post(
        f"/cards/{card.pk}/action/",
        {"action": "recall", "kind": "waste", "cause": "deceased", "reason": "持卡人已死亡"},
    )
    assert not CardRecall.objects.exists()  # no death certificate
    client.post(
        f"/cards/{card.pk}/action/",
        {
            "action": "recall",
            "kind": "waste",
            "cause": "deceased",
            "death_certificate_no": "SW-1",
            "reason": "持卡人已死亡",
        },
    )
    recall = CardRecall.objects.get()
    assert (recall.cause, recall.death_certificate_no) == ("deceased", "SW-1")

"""A holder asks for the card by mail and uploads the liveness proofs; a centre clerk approves and posts it by EMS."""

from __future__ import annotations

import os
from typing import Any

import pytest

from shebao.cards.models import CardState, MailRequest, MailState
from tests.browser.conftest import login
from tests.cards.factories import make_card
from tests.factories import PASSWORD

SHOTS = os.environ.get("SHEBAO_SCREENSHOTS", "")
pytestmark = pytest.mark.browser

PROOFS = {
    "video": ("朗读.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 256),
    "id_photo": ("手持身份证.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 256),
    "newspaper_photo": ("手持报纸.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 256),
}


@pytest.fixture
def inline_jobs(settings: Any, tmp_path: Any) -> Any:
    settings.SHEBAO_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_it_walks_through_a_mail_delivery(page, transactional_db, world, inline_jobs):  # type: ignore[no-untyped-def]
    card = make_card(world.person_a, world.bank_a, CardState.IN_STOCK, outlet=world.outlet_a)

    login(page, "holder", PASSWORD)
    page.click("nav.sidebar >> text=邮寄领卡")
    page.fill(f"#mail-request-{card.pk} input[name=address]", "安徽省寿县寿春镇幸福路8号")
    page.fill(f"#mail-request-{card.pk} input[name=phone]", "13800000000")
    page.click(f"#mail-request-{card.pk} button[type=submit]")
    page.wait_for_selector("text=已提交邮寄申请")
    assert "王小明" in page.inner_text(".phrase")
    for kind, (name, data) in PROOFS.items():
        path = inline_jobs / name
        path.write_bytes(data)
        page.set_input_files(f"input[data-kind={kind}]", str(path))
        page.click(f"button[data-upload={kind}]")
        page.wait_for_selector("text=已上传")
    body = page.inner_text(".mail-request")
    assert all(name in body for name, _ in PROOFS.values())

    page.context.clear_cookies()
    login(page, "clerk", PASSWORD)
    page.click("nav.sidebar >> text=邮寄审核")
    page.click("#mail-requests >> text=办理")
    assert page.locator("#mail-proofs tbody tr").count() == 3
    page.click("#mail-approve")
    page.wait_for_selector("text=审核通过，可以安排EMS邮寄")
    page.fill("input[name=tracking_no]", "EA123456789CN")
    page.click("#mail-dispatch-form button[type=submit]")
    page.wait_for_selector("#tracking-no")
    assert "EA123456789CN" in page.inner_text("#tracking-no")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "mail-dispatched.png"), full_page=True)

    req = MailRequest.objects.get()
    card.refresh_from_db()
    assert req.state == MailState.DISPATCHED
    assert (
        card.state == CardState.ISSUED
        and card.ss_activated_channel == "central"
        and card.fin_activated_at is None
    )

"""A unit clerk logs in, searches their people, opens one, and is refused another unit's person by URL."""

from __future__ import annotations

import os

from tests.browser.conftest import login
from tests.factories import PASSWORD

SHOTS = os.environ.get("SHEBAO_SCREENSHOTS", "")


def test_it_walks_a_unit_clerk_through_search_and_scope(page, transactional_db, world):  # type: ignore[no-untyped-def]
    login(page, "unit", PASSWORD)
    assert "甲单位" in page.inner_text("body")

    page.click("text=人员查询")
    page.fill("input[name=q]", "王")
    page.click("button:has-text('查询')")
    table = page.inner_text("#person-table")
    assert "王小明" in table and "李小红" not in table
    ssn = world.person_a.ssn
    assert ssn not in table and ssn[-4:] in table  # masked for a unit clerk
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "unit-search.png"), full_page=True)

    page.click("#person-table >> text=王小明")
    page.wait_for_url(f"**/people/{world.person_a.pk}/")
    assert "基本信息" in page.inner_text("body")
    assert "甲银行" in page.inner_text("body")

    resp = page.goto(page.base_url + f"/people/{world.person_b.pk}/")
    assert resp is not None and resp.status == 403
    body = page.inner_text("body")
    assert "李小红" not in body and "无权" in body

"""A centre clerk uploads a people file with errors in Chromium and reads every problem by row and column."""

from __future__ import annotations

import os
from typing import Any

import pytest

from shebao.people.models import Person
from tests.browser.conftest import login
from tests.factories import PASSWORD
from tests.people import write_csv
from tests.people.test_import_persons import rows_for

SHOTS = os.environ.get("SHEBAO_SCREENSHOTS", "")


@pytest.fixture
def inline_jobs(settings: Any, tmp_path: Any) -> Any:
    settings.SHEBAO_JOBS_INLINE = True
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_it_lists_the_problems_of_an_uploaded_file_by_row(page, transactional_db, world, inline_jobs):  # type: ignore[no-untyped-def]
    rows = rows_for(world)
    rows[1][0] = rows[1][0][:-1] + ("1" if rows[1][0][-1] == "0" else "0")  # wrong check digit, row 2
    rows[3][4] = "NO-SUCH-UNIT"  # unknown unit, row 4
    bad = write_csv(inline_jobs / "人员名单.csv", rows)
    before = Person.objects.count()

    login(page, "clerk", PASSWORD)
    page.goto(page.base_url + "/people/import/")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('上传并导入')")
    page.wait_for_selector("#import-problems")

    body = page.inner_text("#import-result")
    assert "文件有 2 个问题，未导入任何数据" in body
    cells = [
        [c.inner_text().strip() for c in row.query_selector_all("td")]
        for row in page.query_selector_all("#import-problems tbody tr")
    ]
    assert [c[0] for c in cells] == ["2", "4"]
    assert cells[0][1] == "社会保障号码" and "校验位" in cells[0][3]
    assert cells[1][1] == "单位编号" and cells[1][2] == "NO-SUCH-UNIT"
    assert page.is_visible("#error-file-link")
    assert Person.objects.count() == before
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "person-import-errors.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#error-file-link")
    assert info.value.suggested_filename.endswith(".xlsx")

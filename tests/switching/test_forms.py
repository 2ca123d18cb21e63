"""Verification forms (核实反馈表): one per unit and township, only its own people, a protected xlsx."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from shebao.accounts.roles import Role
from shebao.audit.models import AuditLog
from shebao.core.values.masking import mask_ssn
from shebao.switching.models import VerificationForm
from shebao.switching.services import form_deadline, forms_generate
from tests.factories import UserFactory
from tests.switching.factories import cell_protection, read_xlsx, setup_forms_world

pytestmark = pytest.mark.django_db


def _download(client: Any, user: Any, form: VerificationForm) -> bytes:
    client.force_login(user)
    response = client.get(reverse("switching:form_download", args=[form.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_it_generates_one_form_per_unit_and_township_with_only_its_people(world: Any) -> None:
    data = setup_forms_world(world)
    forms = {f.org_name: f for f in data["forms"]}
    assert set(forms) == {"甲单位", "乙单位", "甲镇"}
    assert [ln.person_id for ln in forms["甲单位"].lines.order_by("row_no")] == sorted(
        [data["a"].pk, data["a2"].pk],
        key=lambda pk: next(p.ssn for p in (data["a"], data["a2"]) if p.pk == pk),
    )
    assert [ln.person_id for ln in forms["乙单位"].lines.all()] == [data["b"].pk]
    assert [ln.person_id for ln in forms["甲镇"].lines.all()] == [data["village"].pk]
    line = forms["乙单位"].lines.get()
    assert (line.bank_name, line.account_name) == (world.bank_b.name, world.person_b.name)
    # running it again in the same period adds nothing
    assert forms_generate(actor=world.centre_clerk, period=202611) == []
    assert VerificationForm.objects.count() == 3


def test_it_writes_the_xlsx_with_the_deadline_locked_columns_and_a_drop_down(world: Any, client: Any) -> None:
    data = setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    content = _download(client, world.unit_clerk, form)
    form.refresh_from_db()
    expected = form_deadline(timezone.localdate())
    assert (form.state, form.downloaded_on, form.deadline) == ("downloaded", timezone.localdate(), expected)
    assert expected.day >= 15 and expected.month != timezone.localdate().month

    rows = read_xlsx(content)
    assert f"请于{expected:%Y年%m月%d日}前报送" in rows[0][0]
    assert "甲单位" in rows[0][0]
    assert rows[1][1] == form.code
    assert rows[2][:3] == ["序号", "社会保障号码", "姓名"]
    assert sorted(r[2] for r in rows[3:]) == sorted([data["a"].name, data["a2"].name])
    # a unit clerk does not see full identifiers on screen, nor in the file
    assert sorted(r[1] for r in rows[3:]) == sorted([mask_ssn(data["a"].ssn), mask_ssn(data["a2"].ssn)])
    assert data["a"].ssn not in str(rows) and world.person_b.name not in str(rows)
    protection = cell_protection(content, 4)
    assert [protection[c] for c in "ABCDEFG"] == [True] * 7
    assert [protection[c] for c in "HIJKL"] == [False] * 5
    import io
    import zipfile

    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml").decode()
    assert 'type="list"' in sheet and "已核，金融功能已开通，可更换" in sheet


def test_it_starts_the_clock_only_when_the_units_own_clerk_downloads(world: Any, client: Any) -> None:
    setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    rows = read_xlsx(_download(client, world.centre_clerk, form))
    form.refresh_from_db()
    # issued: due the 15th of the next month even if never downloaded; the centre's download moves nothing
    issued_due = form_deadline(timezone.localdate(form.generated_at))
    assert (form.state, form.deadline) == ("generated", issued_due)
    assert f"请于{issued_due:%Y年%m月%d日}前报送" in rows[0][0]
    _download(client, world.unit_clerk, form)
    _download(client, world.unit_clerk, form)
    form.refresh_from_db()
    assert form.state == "downloaded"
    assert form.deadline == form_deadline(form.downloaded_on)
    assert AuditLog.objects.filter(action="switching.form_download").count() == 3


def test_it_refuses_another_units_clerk_and_audits_it(world: Any, client: Any) -> None:
    setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    clerk_b = UserFactory(username="unit_b", role=Role.UNIT_CLERK, region=None, employer=world.unit_b)
    client.force_login(clerk_b)
    for name in ("switching:form", "switching:form_download", "switching:form_print"):
        response = client.get(reverse(name, args=[form.pk]))
        assert response.status_code == 403
    assert AuditLog.objects.filter(action="scope.denied", actor=clerk_b).count() == 3
    form.refresh_from_db()
    assert form.state == "generated"
    # the township clerk of 甲镇 sees the township's form, not the forms of the units located there
    client.force_login(world.township_clerk)
    page = client.get(reverse("switching:my_forms")).content.decode()
    assert "甲镇" in page and "甲单位" not in page


def test_it_prints_the_form_on_a4_with_the_originals_fields(world: Any, client: Any) -> None:
    setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    client.force_login(world.unit_clerk)
    page = client.get(reverse("switching:form_print", args=[form.pk])).content.decode()
    for text in (
        "退休人员社会保障卡核实反馈表",
        "甲单位",
        form.code,
        "暂不能更换",
        "保留6个月",
        "单位经办人",
        "王小明",
    ):
        assert text in page
    assert world.person_b.name not in page


def test_it_prefills_the_card_account_found_by_the_latest_comparison(
    world: Any, client: Any, tmp_path: Any
) -> None:
    from shebao.switching.cardsources import FileCardSource
    from shebao.switching.comparison import card_extract_import, comparison_create, comparison_execute
    from tests.switching.factories import beneficiary, card_row, write_card_xlsx

    person = beneficiary(world.person_a)
    path = write_card_xlsx(
        tmp_path / "cards.xlsx", [card_row(person, bank_code=world.bank_a.code, card_no="B98765432")]
    )
    extract = card_extract_import(source=FileCardSource(path), actor=world.centre_clerk)
    run = comparison_create(
        region=world.region, source_description="cards", actor=world.centre_clerk, extract=extract
    )
    comparison_execute(run=run, actor=world.centre_clerk)
    forms_generate(actor=world.centre_clerk, period=202611)
    line = VerificationForm.objects.get(employer=world.unit_a).lines.get()
    assert (line.card_no, line.card_bank_code, line.card_account) == (
        "B98765432",
        world.bank_a.code,
        "6228480000000000018",
    )
    rows = read_xlsx(_download(client, world.centre_clerk, line.form))
    assert (rows[3][1], rows[3][6]) == (person.ssn, "B98765432")
    assert rows[3][8:11] == [world.bank_a.name, "6228480000000000018", person.name]
    # the unit types the card account from the card, or leaves it empty to confirm what the card system has
    from shebao.switching.models import AccountChange
    from tests.switching.factories import SWITCH, downloaded_rows, fill, upload, write_filled_xlsx

    unit_rows = downloaded_rows(client, world.unit_clerk, line.form)
    assert unit_rows[3][9] == ""
    assert (
        upload(
            client, line.form, write_filled_xlsx(fill(unit_rows, {person.name: (SWITCH, "", "")}))
        ).status_code
        == 302
    )
    change = AccountChange.objects.get()
    assert (change.account_no, change.bank) == ("6228480000000000018", world.bank_a)

"""Units return the filled form: every row checked, problems named by row and column, nothing half-applied."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from shebao.accounts.roles import Role
from shebao.audit.models import AuditLog
from shebao.switching.models import AccountChange, VerificationForm
from shebao.switching.services import form_check
from tests.factories import UserFactory
from tests.switching.factories import (
    NEW_ACCOUNT,
    NOT_NOW,
    SWITCH,
    downloaded_rows,
    fill,
    setup_forms_world,
    upload,
    write_filled_ods,
    write_filled_xlsx,
)

pytestmark = pytest.mark.django_db
CORRECTED = "信息有误已更正"


@pytest.fixture
def unit_a(world: Any) -> dict[str, Any]:
    data = setup_forms_world(world)
    data["form"] = VerificationForm.objects.get(employer=world.unit_a)
    return data


def test_it_turns_a_valid_return_into_prepared_changes(
    world: Any, client: Any, unit_a: dict[str, Any]
) -> None:
    form = unit_a["form"]
    a, a2 = unit_a["a"], unit_a["a2"]
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {a.name: (SWITCH, NEW_ACCOUNT, ""), a2.name: (NOT_NOW, "", "卧床不起")},
    )
    response = upload(client, form, write_filled_xlsx(rows))
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.state, form.returned_by) == ("returned", world.unit_clerk)
    with form.scan_file.open("rb") as scan:
        assert scan.read().startswith(b"%PDF")
    change = AccountChange.objects.get()
    assert (change.person, change.account_no, change.account_name, change.state) == (
        a,
        NEW_ACCOUNT,
        a.name,
        "submitted",
    )
    assert (change.submitted_by, change.prepared_by, change.form) == (world.unit_clerk, None, form)
    # The unit's answer waits for a centre clerk, who prepares it under their own name.
    form = form_check(form=form, actor=world.centre_clerk, accept=True)
    change.refresh_from_db()
    assert (form.state, form.checked_by) == ("checked", world.centre_clerk)
    assert (change.state, change.prepared_by) == ("prepared", world.centre_clerk)
    assert dict(form.lines.values_list("person_id", "result")) == {
        a.pk: "switchable",
        a2.pk: "not_switchable",
    }
    assert form.lines.get(person=a2).remark == "卧床不起"


def test_it_changes_nothing_when_the_same_file_comes_again(
    world: Any, client: Any, unit_a: dict[str, Any]
) -> None:
    form = unit_a["form"]
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {unit_a["a"].name: (SWITCH, NEW_ACCOUNT, ""), unit_a["a2"].name: (NOT_NOW, "", "尚未办卡")},
    )
    content = write_filled_xlsx(rows)
    upload(client, form, content)
    response = upload(client, form, content)
    assert response.status_code == 302
    assert AccountChange.objects.count() == 1
    assert AuditLog.objects.filter(action="switching.form_return").count() == 1
    page = client.get(response.url).content.decode()
    assert "该文件已报送过，未做任何改动" in page
    # once the centre clerk has checked it, the same file is still nothing new
    form_check(form=form, actor=world.centre_clerk, accept=True)
    client.force_login(world.unit_clerk)
    response = upload(client, form, content)
    assert "该文件已报送过，未做任何改动" in client.get(response.url).content.decode()
    assert list(AccountChange.objects.values_list("state", flat=True)) == ["prepared"]


def test_it_names_every_bad_cell_and_applies_nothing(world: Any, client: Any, unit_a: dict[str, Any]) -> None:
    form = unit_a["form"]
    a, a2 = unit_a["a"], unit_a["a2"]
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {a.name: (SWITCH, "12AB", ""), a2.name: (NOT_NOW, "", "")},
    )
    first = next(i for i, r in enumerate(rows) if r[2] == a.name)
    rows[first][2] = "王大明"  # a protected column changed
    rows.append(
        ["9", world.person_b.ssn, world.person_b.name, "", "", "", "", SWITCH, "", NEW_ACCOUNT, "李小红", ""]
    )
    response = upload(client, form, write_filled_xlsx(rows))
    assert response.status_code == 400
    problems = [str(p) for p in response.context["problems"]]
    second = next(i for i, r in enumerate(rows) if r[2] == a2.name)
    assert f"第{first + 1}行【姓名】：该列不可修改（原为“{a.name}”），更正请填写在“新”列中" in problems
    assert any(p.startswith(f"第{first + 1}行【新银行账号】") for p in problems)
    assert any(p.startswith(f"第{second + 1}行【备注】") for p in problems)
    assert any(p.startswith(f"第{len(rows)}行【社会保障号码】") and "不在本表中" in p for p in problems)
    assert "文件未导入" in response.content.decode()
    form.refresh_from_db()
    assert (form.state, form.return_checksum) == ("downloaded", "")
    assert not AccountChange.objects.exists()
    assert set(form.lines.values_list("result", flat=True)) == {""}


def test_it_refuses_the_form_of_another_unit(world: Any, client: Any, unit_a: dict[str, Any]) -> None:
    form_b = VerificationForm.objects.get(employer=world.unit_b)
    clerk_b = UserFactory(username="unit_b", role=Role.UNIT_CLERK, region=None, employer=world.unit_b)
    rows_b = fill(downloaded_rows(client, clerk_b, form_b), {world.person_b.name: (SWITCH, NEW_ACCOUNT, "")})
    downloaded_rows(client, world.unit_clerk, unit_a["form"])
    response = upload(client, unit_a["form"], write_filled_xlsx(rows_b))
    assert response.status_code == 400
    assert "第2行【表单编号】：这是乙单位的核实反馈表" in str(response.context["problems"][0])
    assert not AccountChange.objects.exists()
    refused = AuditLog.objects.get(action="switching.form_return_refused")
    assert (refused.actor, refused.new["file_of_form"]) == (world.unit_clerk, form_b.code)


def test_it_refuses_and_audits_an_upload_by_another_units_clerk(
    world: Any, client: Any, unit_a: dict[str, Any]
) -> None:
    form = unit_a["form"]
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form), {unit_a["a"].name: (SWITCH, NEW_ACCOUNT, "")}
    )
    clerk_b = UserFactory(username="unit_b", role=Role.UNIT_CLERK, region=None, employer=world.unit_b)
    client.force_login(clerk_b)
    response = upload(client, form, write_filled_xlsx(rows))
    assert response.status_code == 403
    assert AuditLog.objects.filter(
        action="scope.denied", actor=clerk_b, object_repr__contains="/return/"
    ).exists()
    form.refresh_from_db()
    assert form.state == "downloaded"
    assert not AccountChange.objects.exists()


def test_it_needs_the_stamped_scan_and_a_downloaded_form(
    world: Any, client: Any, unit_a: dict[str, Any]
) -> None:
    form = unit_a["form"]
    client.force_login(world.unit_clerk)
    early = upload(client, form, b"not yet", name="x.xlsx")
    assert "请先下载核实反馈表" in client.get(early.url).content.decode()
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form), {unit_a["a"].name: (SWITCH, NEW_ACCOUNT, "")}
    )
    response = upload(client, form, write_filled_xlsx(rows), scan=False)
    assert "加盖单位公章的反馈表扫描件" in client.get(response.url).content.decode()
    form.refresh_from_db()
    assert form.state == "downloaded"


def test_it_reads_a_form_saved_by_libreoffice_as_ods(world: Any, client: Any, unit_a: dict[str, Any]) -> None:
    form = unit_a["form"]
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {unit_a["a"].name: (SWITCH, NEW_ACCOUNT, ""), unit_a["a2"].name: (NOT_NOW, "", "尚未办卡")},
    )
    response = upload(client, form, write_filled_ods(rows), name="反馈表.ods")
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.state == "returned"
    assert AccountChange.objects.get().person == unit_a["a"]


def test_it_shows_the_stamped_scan_to_the_reviewer_only_within_scope(
    world: Any, client: Any, unit_a: dict[str, Any]
) -> None:
    form = unit_a["form"]
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {unit_a["a"].name: (SWITCH, NEW_ACCOUNT, ""), unit_a["a2"].name: (NOT_NOW, "", "尚未办卡")},
    )
    upload(client, form, write_filled_xlsx(rows))
    client.force_login(world.centre_clerk)  # the clerk checks the scan first, then the supervisor
    detail = client.get(reverse("switching:form", args=[form.pk])).content.decode()
    assert "查看盖章扫描件" in detail and reverse("switching:form_check", args=[form.pk]) in detail
    form_check(form=form, actor=world.centre_clerk, accept=True)
    client.force_login(world.supervisor)
    detail = client.get(reverse("switching:form", args=[form.pk])).content.decode()
    assert "查看盖章扫描件" in detail and reverse("switching:form_review", args=[form.pk]) in detail
    scan = client.get(reverse("switching:form_file", args=[form.pk, "scan"]))
    assert b"".join(scan.streaming_content).startswith(b"%PDF")
    clerk_b = UserFactory(username="unit_b", role=Role.UNIT_CLERK, region=None, employer=world.unit_b)
    client.force_login(clerk_b)
    assert client.get(reverse("switching:form_file", args=[form.pk, "scan"])).status_code == 403


def test_it_reads_a_form_saved_as_xls_by_an_old_excel(
    world: Any, client: Any, unit_a: dict[str, Any], tmp_path: Any
) -> None:
    from tests.people import write_xls

    form = unit_a["form"]
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {unit_a["a"].name: (SWITCH, NEW_ACCOUNT, ""), unit_a["a2"].name: (NOT_NOW, "", "卧床不起")},
    )
    path = write_xls(tmp_path / "反馈表.xls", [["" if v is None else v for v in row] for row in rows])
    response = upload(client, form, path.read_bytes(), name="反馈表.xls")
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.state == "returned"
    change = AccountChange.objects.get()
    assert (change.person, change.account_no) == (unit_a["a"], NEW_ACCOUNT)
    assert dict(form.lines.values_list("person_id", "remark"))[unit_a["a2"].pk] == "卧床不起"


def test_it_names_the_one_bad_cell_among_thousands_of_rows_and_applies_nothing(
    world: Any, client: Any
) -> None:
    import datetime as dt

    from shebao.core.values.ssn import make_ssn
    from shebao.people.models import PaymentAccount, Person, PersonCategory
    from shebao.people.services import beneficiary_flags_refresh
    from shebao.switching.services import forms_generate
    from tests.cards.factories import account_no

    n = 2500
    first = dt.date(1950, 1, 1)
    people = Person.objects.bulk_create(
        Person(
            ssn=make_ssn(world.region.code, first + dt.timedelta(days=i % 3000), 500 + i // 3000),
            name=f"职工{i:04d}",
            sex="1",
            birth_date=first + dt.timedelta(days=i % 3000),
            region=world.region,
            employer=world.unit_a,
            township=world.town_a,
        )
        for i in range(n)
    )
    PersonCategory.objects.bulk_create(
        PersonCategory(person=p, category="enterprise_retiree") for p in people
    )
    beneficiary_flags_refresh(p.pk for p in people)
    PaymentAccount.objects.bulk_create(
        PaymentAccount(
            person=p,
            bank_name="甲银行",
            account_no=f"6217{i:015d}",
            account_name=p.name,
            kind=PaymentAccount.Kind.PASSBOOK,
            valid_from=201001,
            source=PaymentAccount.Source.IMPORT,
        )
        for i, p in enumerate(people)
    )
    forms_generate(actor=world.centre_clerk, period=202611)
    form = VerificationForm.objects.get(employer=world.unit_a)
    rows = downloaded_rows(client, world.unit_clerk, form)
    assert len(rows) >= n + 3
    answers = {p.name: (NOT_NOW, "", "尚未办卡") for p in people}
    answers.update({p.name: (CORRECTED, account_no(i + 1), "") for i, p in enumerate(people[:3])})
    rows = fill(rows, {**answers, "职工1777": (CORRECTED, "62284800000000000X", "")})
    bad = next(i for i, r in enumerate(rows) if r[2] == "职工1777")
    response = upload(client, form, write_filled_xlsx(rows))
    assert response.status_code == 400
    problems = [str(p) for p in response.context["problems"]]
    assert len(problems) == 1 and problems[0].startswith(f"第{bad + 1}行【新银行账号】")
    form.refresh_from_db()
    assert (form.state, form.return_checksum) == ("downloaded", "")
    assert not AccountChange.objects.exists()
    assert set(form.lines.values_list("result", flat=True)) == {""}


def test_it_checks_the_account_against_the_person_and_the_comparison(
    world: Any, client: Any, unit_a: dict[str, Any]
) -> None:
    form = unit_a["form"]
    a, a2 = unit_a["a"], unit_a["a2"]
    rows = downloaded_rows(client, world.unit_clerk, form)
    # 甲二's card is not activated; 王小明's is, but the unit typed another account and another name
    rows = fill(rows, {a.name: (SWITCH, "6228480000000000026", ""), a2.name: (SWITCH, "", "")})
    row_a = next(i for i, r in enumerate(rows) if r[2] == a.name)
    row_a2 = next(i for i, r in enumerate(rows) if r[2] == a2.name)
    rows[row_a][10] = "王晓明"
    response = upload(client, form, write_filled_xlsx(rows))
    assert response.status_code == 400
    problems = [str(p) for p in response.context["problems"]]
    assert any(
        p.startswith(f"第{row_a + 1}行【新银行账号】：与卡系统中本人社保卡金融账号（尾号0018）不一致")
        for p in problems
    )
    assert f"第{row_a + 1}行【新账户户名】：户名“王晓明”与姓名“{a.name}”不一致，银行将拒绝发放" in problems
    assert any(
        p.startswith(f"第{row_a2 + 1}行【核实结果】：比对结果为“比对成功，已制卡未激活”") for p in problems
    )
    assert not AccountChange.objects.exists()
    form.refresh_from_db()
    assert form.state == "downloaded"

    # a name written with a full-width space is the person's name; a corrected account is taken, flagged
    rows[row_a][7], rows[row_a][9], rows[row_a][10] = CORRECTED, "6228480000000000026", "王　小明"
    rows[row_a2][7], rows[row_a2][11] = NOT_NOW, "尚未激活金融功能"
    assert upload(client, form, write_filled_xlsx(rows)).status_code == 302
    client.force_login(world.centre_clerk)
    page = client.get(reverse("switching:form", args=[form.pk])).content.decode()
    assert "与比对所得社保卡账号不同" in page


def test_it_refuses_switchable_for_someone_the_card_system_does_not_know(
    world: Any, client: Any, unit_a: dict[str, Any]
) -> None:
    from tests.switching.factories import B_ACCOUNT, card_row, compare_cards

    # a later comparison whose card file no longer holds 王小明
    compare_cards(world, [card_row(unit_a["b"], card_no="B12345678", account=B_ACCOUNT)])
    form = unit_a["form"]
    a = unit_a["a"]
    rows = fill(downloaded_rows(client, world.unit_clerk, form), {a.name: (SWITCH, NEW_ACCOUNT, "")})
    response = upload(client, form, write_filled_xlsx(rows))
    assert response.status_code == 400
    assert any("比对结果为“比对不成功”" in str(p) for p in response.context["problems"])
    assert not AccountChange.objects.exists()

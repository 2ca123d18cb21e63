"""机关事业单位: online batch edit of account name and number instead of the file, reviewed the same way."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shebao.orgs.models import Employer
from shebao.switching.models import AccountChange, VerificationForm
from shebao.switching.services import form_check, form_review
from tests.switching.factories import NEW_ACCOUNT, PDF_SCAN, setup_forms_world

pytestmark = pytest.mark.django_db


def post(client: Any, form: VerificationForm, answers: dict[int, dict[str, str]]) -> Any:
    data: dict[str, Any] = {"scan_file": SimpleUploadedFile("盖章.pdf", PDF_SCAN)}
    for line_id, values in answers.items():
        data.update({f"{k}_{line_id}": v for k, v in values.items()})
    return client.post(reverse("switching:form_online", args=[form.pk]), data)


def test_it_lets_an_institution_edit_accounts_online(world: Any, client: Any) -> None:
    Employer.objects.filter(pk=world.unit_a.pk).update(kind=Employer.Kind.INSTITUTION)
    data = setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    client.force_login(world.unit_clerk)
    page = client.get(reverse("switching:form_online", args=[form.pk]))
    assert page.status_code == 200
    form.refresh_from_db()
    assert form.state == "downloaded" and form.deadline is not None

    a = form.lines.get(person=data["a"])
    a2 = form.lines.get(person=data["a2"])
    answers = {
        a.pk: {"result": "switchable", "account_no": "", "account_name": "王小红"},
        a2.pk: {"result": "switchable", "account_no": "", "account_name": a2.name},
    }
    refused = post(client, form, answers)
    assert refused.status_code == 400
    problems = [str(p) for p in refused.context["problems"]]
    assert f"第{a.row_no}行【新账户户名】：户名“王小红”与姓名“{a.name}”不一致，银行将拒绝发放" in problems
    # 甲二's card is not activated: "switchable" is refused by row
    assert any(
        p.startswith(f"第{a2.row_no}行【核实结果】：比对结果为“比对成功，已制卡未激活”") for p in problems
    )
    assert not AccountChange.objects.exists()

    answers[a.pk]["account_name"] = a.name
    answers[a2.pk] = {"result": "not_switchable", "remark": ""}
    refused = post(client, form, answers)
    problems = [str(p) for p in refused.context["problems"]]
    assert [p[: len(f"第{a2.row_no}行【备注】")] for p in problems] == [f"第{a2.row_no}行【备注】"]

    answers[a2.pk]["remark"] = "卧床不起"
    assert post(client, form, answers).status_code == 302
    form.refresh_from_db()
    assert form.state == "returned"
    change = AccountChange.objects.get()
    # left empty, "switchable" takes the activated card account the comparison found
    assert (change.person, change.account_no) == (data["a"], NEW_ACCOUNT)
    form = form_check(form=form, actor=world.centre_clerk, accept=True)
    form = form_review(form=form, actor=world.supervisor, approve=True)
    change.refresh_from_db()
    assert change.state == "approved"


def test_it_keeps_enterprises_on_the_file(world: Any, client: Any) -> None:
    setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    client.force_login(world.unit_clerk)
    response = client.get(reverse("switching:form_online", args=[form.pk]))
    assert response.status_code == 302
    assert "仅适用于机关事业单位" in client.get(response.url).content.decode()

from __future__ import annotations

from django.urls import reverse

from shebao.payments.models import PaymentLine, Payroll
from shebao.payments.services import bank_file_bytes
from tests.factories import PASSWORD, AccountFactory
from tests.payments.factories import approved, filed, generate, return_bytes


def _client(client, user):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_nav_shows_the_payment_section_to_centre_roles(client, pay, world):
    page = _client(client, world.auditor).get(reverse("home"))

    assert "待遇支付" in page.content.decode() and reverse("payments:payroll_list") in page.content.decode()


def test_a_unit_clerk_cannot_see_payrolls(client, pay, world):
    payroll = generate(pay)
    c = _client(client, world.unit_clerk)

    assert c.get(reverse("payments:payroll_list")).status_code == 403
    assert c.get(reverse("payments:payroll_detail", args=[payroll.pk])).status_code == 403
    assert "待遇发放表" not in c.get(reverse("home")).content.decode()


def test_a_clerk_generates_a_payroll_through_the_page(client, pay, world):
    c = _client(client, world.centre_clerk)

    response = c.post(reverse("payments:payroll_list"), {"period": "2024-06", "benefit_type": pay.pension.pk})

    payroll = Payroll.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "payments:payroll_detail", args=[payroll.pk]
    )
    page = c.get(response["Location"]).content.decode()
    assert "王小明" in page and "4,145.60" in page and "复核通过" not in page


def test_an_auditor_can_read_but_not_approve(client, pay, world):
    payroll = generate(pay)
    c = _client(client, world.auditor)

    page = c.get(reverse("payments:payroll_detail", args=[payroll.pk]))
    assert page.status_code == 200 and "王小明" in page.content.decode()
    assert "复核通过" not in page.content.decode()
    assert c.post(reverse("payments:payroll_approve", args=[payroll.pk])).status_code == 403
    payroll.refresh_from_db()
    assert payroll.state == "draft"


def test_a_supervisor_approves_through_the_page(client, pay, world):
    payroll = generate(pay)
    c = _client(client, world.supervisor)
    assert "复核通过" in c.get(reverse("payments:payroll_detail", args=[payroll.pk])).content.decode()

    response = c.post(reverse("payments:payroll_approve", args=[payroll.pk]), follow=True)

    assert "发放表已复核" in response.content.decode()
    payroll.refresh_from_db()
    assert payroll.state == "approved" and payroll.approved_by == world.supervisor


def test_a_supervisor_who_prepared_the_payroll_is_told_why_they_cannot_approve(client, pay, world):
    from shebao.payments.services import payroll_generate

    payroll = payroll_generate(
        region=world.region, period=202406, benefit_type=pay.pension, actor=world.supervisor
    )
    c = _client(client, world.supervisor)

    assert "复核通过" not in c.get(reverse("payments:payroll_detail", args=[payroll.pk])).content.decode()
    assert c.post(reverse("payments:payroll_approve", args=[payroll.pk])).status_code == 403


def test_a_clerk_files_and_downloads_the_bank_file(client, pay, world):
    payroll = approved(pay)
    c = _client(client, world.centre_clerk)

    c.post(reverse("payments:payroll_file", args=[payroll.pk]))
    bank_file = payroll.bank_files.get(bank=world.bank_a)
    response = c.get(reverse("payments:bank_file_download", args=[bank_file.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{bank_file.batch_no}.txt"'
    content = b"".join(response.streaming_content)  # streamed, not held in memory
    assert content == bank_file_bytes(bank_file)
    assert content.startswith(f"H|{bank_file.batch_no}|".encode()) and "王小明".encode("gbk") in content
    assert (
        _client(client, world.auditor)
        .get(reverse("payments:bank_file_download", args=[bank_file.pk]))
        .status_code
        == 403
    )


def test_a_return_file_upload_shows_the_refusal_and_then_the_result(client, pay, world):
    payroll = filed(pay)
    bank_file = payroll.bank_files.get(bank=world.bank_a)
    c = _client(client, world.centre_clerk)
    url = reverse("payments:return_upload", args=[payroll.pk])
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = return_bytes(bank_file, header={"batch_no": "OTHER-1"})
    page = c.post(url, {"file": SimpleUploadedFile("r.txt", bad)}, follow=True).content.decode()
    assert "回盘文件被拒绝" in page and "OTHER-1" in page

    good = return_bytes(bank_file, failures={1: "name_mismatch"})
    page = c.post(url, {"file": SimpleUploadedFile("r.txt", good)}, follow=True).content.decode()
    assert "成功0笔，失败1笔" in page

    page = c.post(url, {"file": SimpleUploadedFile("r.txt", good)}, follow=True).content.decode()
    assert "已导入过" in page


def test_failures_are_listed_by_reason_and_a_unit_clerk_sees_only_their_people(client, pay, world):
    payroll = filed(pay)
    from shebao.payments.services import return_file_import

    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll,
            data=return_bytes(
                bank_file, failures={1: "name_mismatch" if bank_file.bank == world.bank_a else "lost"}
            ),
            file_name="r.txt",
            actor=world.centre_clerk,
        )

    page = _client(client, world.centre_clerk).get(reverse("payments:failures")).content.decode()
    assert "户名不符 1笔" in page and "挂失 1笔" in page and "王小明" in page and "李小红" in page

    client.logout()
    page = _client(client, world.unit_clerk).get(reverse("payments:failures")).content.decode()
    assert "王小明" in page and "李小红" not in page and "登记" not in page


def test_a_clerk_whitelists_a_held_name_from_the_failures_page(client, pay, world):
    AccountFactory(person=world.person_a, bank=world.bank_a, account_name="王晓明", valid_from=202406)
    payroll = generate(pay)
    line = PaymentLine.objects.get(payroll=payroll, person=world.person_a)
    c = _client(client, world.centre_clerk)
    assert "王晓明" in c.get(reverse("payments:failures")).content.decode()

    c.post(reverse("payments:whitelist_add"), {"line": line.pk, "spelling": "王晓明", "note": "本人核实"})

    line.refresh_from_db()
    assert line.state == "held"  # waits for a supervisor's confirmation
    page = c.get(reverse("payments:failures")).content.decode()
    assert 'id="whitelist-pending"' in page and "待复核员确认" in page
    from shebao.payments.models import NameWhitelist

    entry = NameWhitelist.objects.get(person=world.person_a)
    c.logout()
    c = _client(client, world.supervisor)
    c.post(reverse("payments:whitelist_confirm", args=[entry.pk]))

    line.refresh_from_db()
    assert line.state == "pending"


def test_a_clerk_resolves_a_failure_and_starts_a_second_payment_batch(client, pay, world):
    from shebao.payments.services import return_file_import

    payroll = filed(pay)
    bank_file = payroll.bank_files.get(bank=world.bank_a)
    return_file_import(
        payroll=payroll,
        data=return_bytes(bank_file, failures={1: "name_mismatch"}),
        file_name="r.txt",
        actor=world.centre_clerk,
    )
    line = PaymentLine.objects.get(bank_file=bank_file)
    c = _client(client, world.centre_clerk)
    assert (
        reverse("payments:line_resolve", args=[line.pk])
        in c.get(reverse("payments:failures")).content.decode()
    )

    page = c.post(
        reverse("payments:line_resolve", args=[line.pk]),
        {"kind": "name_verified", "spelling": "王晓明", "note": "本人核实"},
        follow=True,
    ).content.decode()
    assert "已处理" in page and "待二次支付" in page
    # the open queue is empty now; the resolved line is under 已处理 and in 全部
    listing = c.get(reverse("payments:failures")).content.decode()
    assert "没有发放失败的明细" in listing and reverse("payments:line_resolve", args=[line.pk]) not in listing
    assert "待二次支付" in c.get(reverse("payments:failures") + "?status=all").content.decode()

    response = c.post(reverse("payments:repayment_generate"), {"benefit_type": pay.pension.pk}, follow=True)
    batch = Payroll.objects.get(kind="repayment")
    assert response.redirect_chain[-1][0] == reverse("payments:payroll_detail", args=[batch.pk])
    assert "二次支付" in response.content.decode() and "王晓明" in response.content.decode()


def test_a_unit_clerk_cannot_resolve_failures(client, pay, world):
    payroll = filed(pay)
    line = payroll.lines.first()

    assert (
        _client(client, world.unit_clerk).get(reverse("payments:line_resolve", args=[line.pk])).status_code
        == 403
    )


def _xlsx_rows(response) -> list[list]:  # type: ignore[no-untyped-def,type-arg]
    import io

    from python_calamine import CalamineWorkbook

    content = b"".join(response.streaming_content)  # the test client closes the response after this
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def test_payroll_and_failures_export_as_xlsx_with_masked_ids_for_an_auditor(client, pay, world):
    from shebao.payments.services import return_file_import

    payroll = filed(pay)
    bank_file = payroll.bank_files.get(bank=world.bank_a)
    return_file_import(
        payroll=payroll,
        data=return_bytes(bank_file, failures={1: "lost"}),
        file_name="r.txt",
        actor=world.centre_clerk,
    )
    c = _client(client, world.auditor)

    rows = _xlsx_rows(c.get(reverse("payments:payroll_export", args=[payroll.pk])))
    assert rows[0][:4] == ["批次号", "序号", "社会保障号码", "姓名"]
    wang = next(r for r in rows if r[3] == "王小明")
    assert (
        wang[2] != world.person_a.ssn and wang[6] == 2345.6 and wang[10] == "发放失败" and "挂失" in wang[11]
    )

    rows = _xlsx_rows(c.get(reverse("payments:failures_export")))
    assert [r[3] for r in rows[1:]] == ["王小明"] and rows[1][10] == "挂失"


def test_a_clerk_records_a_death_and_settles_the_overpayment(client, pay, world):
    from shebao.payments.models import Overpayment
    from shebao.payments.services import return_file_import

    payroll = filed(pay)
    for bank_file in payroll.bank_files.all():
        return_file_import(
            payroll=payroll, data=return_bytes(bank_file), file_name="r.txt", actor=world.centre_clerk
        )
    c = _client(client, world.centre_clerk)

    page = c.post(
        reverse("payments:death_record"),
        {"ssn": world.person_a.ssn, "death_date": "2024-05-20", "source": "亲属报告"},
        follow=True,
    ).content.decode()
    assert "发现多发1笔" in page and "抚恤金" in page

    page = c.get(reverse("payments:overpayments")).content.decode()
    assert "王小明" in page and "2,345.60" in page
    over = Overpayment.objects.get()
    c.post(
        reverse("payments:overpayment_settle", args=[over.pk]),
        {"to_state": "refunded", "reference": "退款单001"},
    )
    over.refresh_from_db()
    assert (over.state, over.reference) == ("refunded", "退款单001")


def test_death_recording_is_scoped_and_for_centre_clerks_only(client, pay, world):
    from tests.factories import PersonFactory, RegionFactory

    elsewhere = PersonFactory(region=RegionFactory(code="110101", name="东城区"))
    c = _client(client, world.centre_clerk)

    page = c.post(
        reverse("payments:death_record"),
        {"ssn": elsewhere.ssn, "death_date": "2024-05-20", "source": "亲属报告"},
    ).content.decode()
    assert "没有该社会保障号码的人员" in page
    elsewhere.refresh_from_db()
    assert elsewhere.death_date is None

    client.logout()
    assert _client(client, world.auditor).get(reverse("payments:death_record")).status_code == 403


def test_every_page_of_the_section_opens_for_the_roles_that_see_it(client, pay, world):
    from shebao.payments.nav import SECTIONS

    payroll = filed(pay)
    for user in (world.centre_clerk, world.supervisor, world.auditor, world.unit_clerk, world.township_clerk):
        client.force_login(user)
        for item in SECTIONS[0].items:
            status = client.get(reverse(item.url_name)).status_code
            assert status == (200 if user.can(item.action) else 403), (user.username, item.url_name)
        detail = client.get(reverse("payments:payroll_detail", args=[payroll.pk])).status_code
        assert detail == (200 if user.can("payroll.view") else 403)


def test_the_payroll_page_shows_a_reconciliation_gap_against_the_approval_snapshot(client, pay, world):
    """The page runs the same check as the code: a line changed behind the system's back shows."""
    from decimal import Decimal

    payroll = approved(pay)
    page = (
        _client(client, world.auditor)
        .get(reverse("payments:payroll_detail", args=[payroll.pk]))
        .content.decode()
    )
    assert "成功+失败+待发+暂缓＝应发，笔数与金额相符，与复核时一致" in page
    PaymentLine.objects.filter(payroll=payroll, person=world.person_a).update(amount=Decimal("2345.61"))
    page = client.get(reverse("payments:payroll_detail", args=[payroll.pk])).content.decode()
    assert "与复核时不平：明细2笔4145.61元，控制数2笔4145.60元" in page and "badge-danger" in page

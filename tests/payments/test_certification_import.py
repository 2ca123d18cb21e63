"""Passive certification by data match (数据比对静默认证): a file of people seen alive elsewhere."""

from __future__ import annotations

import datetime as dt

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from shebao.core.values.period import period_of
from shebao.payments.importers import certification_import
from shebao.payments.models import BackPay, Certification, Entitlement
from shebao.payments.services import death_record, entitlement_transition
from shebao.people.importers import ImportRejected
from shebao.people.models import ImportBatch
from tests.factories import PASSWORD, PersonFactory, RegionFactory

HEAD = "社会保障号码,姓名,比对日期,数据来源\n"


def _file(tmp_path, text, name="seen.csv"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _day(days_ago: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days_ago)


def test_people_seen_alive_are_certified_once_and_suspended_ones_resume(pay, world, tmp_path):
    today = timezone.localdate()
    entitlement_transition(
        entitlement=pay.ent_a,
        to_state="suspended",
        reason="1201",
        from_period=period_of(today),
        actor=world.centre_clerk,
    )
    text = (
        HEAD
        + f"{world.person_a.ssn},王小明,{_day(3):%Y-%m-%d},医保结算\n"
        + f"{world.person_b.ssn},,{_day(40):%Y-%m-%d},\n"
        + f"{world.person_b.ssn},李小红,{_day(5):%Y-%m-%d},公共交通\n"
    )

    result = certification_import(
        path=_file(tmp_path, text), file_name="seen.csv", source="民政数据", actor=world.centre_clerk
    )

    assert (result.rows, result.certified, result.unchanged, result.resumed) == (3, 2, 0, 1)
    certs = {c.person_id: c for c in Certification.objects.all()}
    assert certs[world.person_a.pk].channel == Certification.Channel.DATA_MATCH
    assert certs[world.person_a.pk].note == "数据比对：医保结算"
    assert (certs[world.person_b.pk].certified_on, certs[world.person_b.pk].note) == (
        _day(5),
        "数据比对：公共交通",
    )
    pay.ent_a.refresh_from_db()
    assert (pay.ent_a.state, pay.ent_a.reason) == ("active", "")
    assert BackPay.objects.get().entitlement == pay.ent_a

    # The same file again: nothing. Another file with the same people, no later dates: nothing new.
    again = certification_import(
        path=_file(tmp_path, text), file_name="seen.csv", source="民政数据", actor=world.centre_clerk
    )
    assert again.duplicate and Certification.objects.count() == 2
    other = certification_import(
        path=_file(tmp_path, HEAD + f"{world.person_a.ssn},,{_day(10):%Y-%m-%d},交通卡\n", "other.csv"),
        file_name="other.csv",
        source="交通",
        actor=world.centre_clerk,
    )
    assert (other.duplicate, other.certified, other.unchanged) == (False, 0, 1)
    assert Certification.objects.count() == 2 and BackPay.objects.count() == 1


def test_every_bad_row_and_column_is_named_and_nothing_is_written(pay, world, tmp_path):
    elsewhere = PersonFactory(region=RegionFactory(code="110101"), name="赵远")
    dead = PersonFactory(region=world.region, name="钱故")
    death_record(person=dead, death_date=_day(30), actor=world.centre_clerk)
    text = (
        HEAD
        + f"{world.person_a.ssn},王小明,{_day(1):%Y-%m-%d},医保\n"  # fine, but the file is refused
        + f"12345,,{_day(1):%Y-%m-%d},\n"
        + f"{elsewhere.ssn},,{_day(1):%Y-%m-%d},\n"
        + f"{world.person_b.ssn},王小明,{_day(1):%Y-%m-%d},\n"
        + f"{world.person_b.ssn},,{_day(-2):%Y-%m-%d},\n"
        + f"{world.person_b.ssn},,{_day(800):%Y-%m-%d},\n"
        + f"{world.person_b.ssn},,2024-13-01,\n"
        + f"{dead.ssn},,{_day(1):%Y-%m-%d},\n"
    )

    with pytest.raises(ImportRejected) as caught:
        certification_import(
            path=_file(tmp_path, text), file_name="bad.csv", source="医保", actor=world.centre_clerk
        )

    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [
        (3, "社会保障号码"),
        (4, "社会保障号码"),
        (5, "姓名"),
        (6, "比对日期"),
        (7, "比对日期"),
        (8, "比对日期"),
        (9, "社会保障号码"),
    ]
    messages = " ".join(str(p) for p in caught.value.problems)
    assert "不能晚于今天" in messages and "超出认证有效期" in messages and "登记" in messages
    assert "死亡" in messages and "管辖范围" in messages
    assert not Certification.objects.exists()
    assert not ImportBatch.objects.filter(kind="certifications_data_match").exists()

    with pytest.raises(ImportRejected, match="表头缺少列"):
        certification_import(
            path=_file(tmp_path, "姓名\n王小明\n", "h.csv"),
            file_name="h.csv",
            source="x",
            actor=world.centre_clerk,
        )


def test_an_xlsx_with_date_cells_is_read_too(pay, world, tmp_path):
    path = tmp_path / "seen.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["社会保障号码", "比对日期"])
    ws.write_string(1, 0, world.person_a.ssn)
    ws.write_datetime(
        1, 1, dt.datetime.combine(_day(2), dt.time()), wb.add_format({"num_format": "yyyy-mm-dd"})
    )
    wb.close()

    result = certification_import(
        path=path, file_name="seen.xlsx", source="医保结算", actor=world.centre_clerk
    )

    assert result.certified == 1
    cert = Certification.objects.get()
    assert (cert.person, cert.certified_on, cert.note) == (world.person_a, _day(2), "数据比对：医保结算")


def _login(client, user):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_page_imports_shows_problems_and_is_for_centre_clerks(client, pay, world):
    c = _login(client, world.centre_clerk)
    url = reverse("payments:certification_import")
    good = (HEAD + f"{world.person_a.ssn},,{_day(1):%Y-%m-%d},\n").encode()

    page = c.post(
        url, {"file": SimpleUploadedFile("s.csv", good), "source": "医保结算"}, follow=True
    ).content.decode()
    assert "认证1人" in page and Certification.objects.count() == 1

    response = c.post(
        url, {"file": SimpleUploadedFile("b.csv", (HEAD + "123,,2024-01-01,\n").encode()), "source": "医保"}
    )
    assert response.status_code == 400 and 'id="import-problems"' in response.content.decode()
    assert Certification.objects.count() == 1

    c.logout()
    c = _login(client, world.township_clerk)
    assert c.post(url, {"file": SimpleUploadedFile("s2.csv", good), "source": "x"}).status_code == 403
    assert Entitlement.objects.filter(state="active").count() == 2

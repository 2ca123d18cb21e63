"""Each role sees only its own people: through the pages, the API and the exports."""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook

from shebao.audit.models import AuditLog
from tests.factories import PASSWORD


def _login(client, user):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


# role -> (sees person_a, sees person_b)
SCOPE = {
    "centre_clerk": (True, True),
    "supervisor": (True, True),
    "auditor": (True, True),
    "unit_clerk": (True, False),
    "township_clerk": (True, False),
    "bank_clerk": (True, False),
    "cardholder": (True, False),
}


@pytest.mark.parametrize(("persona", "expected"), SCOPE.items())
def test_it_limits_person_detail_pages_to_the_users_scope(client, world, persona, expected):  # type: ignore[no-untyped-def]
    _login(client, getattr(world, persona))
    for person, allowed in zip((world.person_a, world.person_b), expected, strict=True):
        resp = client.get(f"/people/{person.pk}/")
        assert resp.status_code == (200 if allowed else 403), (persona, person.name)
        if allowed:
            assert person.name in resp.content.decode()


def test_it_audits_a_refused_detail_page(client, world):  # type: ignore[no-untyped-def]
    _login(client, world.unit_clerk)
    resp = client.get(f"/people/{world.person_b.pk}/")
    assert resp.status_code == 403
    assert "无权" in resp.content.decode() or "管辖范围" in resp.content.decode()
    row = AuditLog.objects.get(action="scope.denied")
    assert row.actor == world.unit_clerk and str(world.person_b.pk) in row.object_repr


@pytest.mark.parametrize("persona", ["unit_clerk", "township_clerk", "bank_clerk"])
def test_it_lists_only_the_users_people_in_search(client, world, persona):  # type: ignore[no-untyped-def]
    _login(client, getattr(world, persona))
    body = client.get("/people/").content.decode()
    assert world.person_a.name in body
    assert world.person_b.name not in body


def test_it_lets_the_centre_find_people_by_ssn_name_and_initials(client, world):  # type: ignore[no-untyped-def]
    _login(client, world.centre_clerk)
    assert world.person_b.name in client.get("/people/", {"q": world.person_b.ssn}).content.decode()
    assert world.person_b.name in client.get("/people/", {"q": "李小"}).content.decode()
    body = client.get("/people/", {"q": "王"}).content.decode()
    assert world.person_a.name in body and world.person_b.name not in body


def test_it_refuses_the_search_page_to_a_cardholder(client, world):  # type: ignore[no-untyped-def]
    _login(client, world.cardholder)
    assert client.get("/people/").status_code == 403


def test_it_masks_ids_for_a_unit_clerk_and_shows_them_to_the_centre(client, world):  # type: ignore[no-untyped-def]
    ssn = world.person_a.ssn
    _login(client, world.unit_clerk)
    body = client.get("/people/").content.decode()
    assert ssn not in body and ssn[:6] + "********" + ssn[-4:] in body
    client.logout()
    _login(client, world.centre_clerk)
    assert ssn in client.get("/people/").content.decode()


def test_it_shows_the_cardholder_their_own_full_ssn(client, world):  # type: ignore[no-untyped-def]
    _login(client, world.cardholder)
    assert world.person_a.ssn in client.get(f"/people/{world.person_a.pk}/").content.decode()


def _export_rows(resp) -> list[list[object]]:  # type: ignore[no-untyped-def]
    data = b"".join(resp.streaming_content)
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return wb.get_sheet_by_index(0).to_python()


@pytest.mark.parametrize(("persona", "names"), [("unit_clerk", {"王小明"}), ("centre_clerk", {"王小明", "李小红"})])
def test_it_exports_only_the_users_people(client, world, persona, names):  # type: ignore[no-untyped-def]
    _login(client, getattr(world, persona))
    resp = client.get("/people/export.xlsx")
    assert resp.status_code == 200
    rows = _export_rows(resp)
    assert rows[0][0] == "社会保障号码"
    assert {r[1] for r in rows[1:]} == names
    assert AuditLog.objects.filter(action="export", actor=getattr(world, persona)).exists()


def test_it_masks_ids_in_a_unit_clerks_export(client, world):  # type: ignore[no-untyped-def]
    _login(client, world.unit_clerk)
    rows = _export_rows(client.get("/people/export.xlsx"))
    assert rows[1][0] != world.person_a.ssn and "*" in str(rows[1][0])


def test_it_refuses_exports_to_bank_clerks_and_cardholders(client, world):  # type: ignore[no-untyped-def]
    for persona in ("bank_clerk", "cardholder"):
        client.logout()
        _login(client, getattr(world, persona))
        assert client.get("/people/export.xlsx").status_code == 403


def test_it_sends_anonymous_visitors_to_the_login_page(client, world):  # type: ignore[no-untyped-def]
    resp = client.get(f"/people/{world.person_a.pk}/")
    assert resp.status_code == 302 and "/login/" in resp["Location"]

"""The API applies the same data scope, by token and by session."""

from __future__ import annotations

import pytest

from shebao.accounts.services import token_create
from tests.factories import PASSWORD


def _token(world, user) -> str:  # type: ignore[no-untyped-def]
    from django.db import transaction

    with transaction.atomic():
        _t, key = token_create(actor=world.supervisor, user=user, name="测试")
    return key


def _get(client, url, key):  # type: ignore[no-untyped-def]
    return client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_it_refuses_the_api_without_credentials(client, world):  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/persons").status_code == 401


def test_it_refuses_a_revoked_token(client, world):  # type: ignore[no-untyped-def]
    from shebao.accounts.models import ApiToken
    from shebao.accounts.services import token_revoke

    key = _token(world, world.centre_clerk)
    assert _get(client, "/api/v1/persons", key).status_code == 200
    token_revoke(actor=world.supervisor, token=ApiToken.objects.get())
    assert _get(client, "/api/v1/persons", key).status_code == 401


@pytest.mark.parametrize(
    ("persona", "names"),
    [
        ("centre_clerk", {"王小明", "李小红"}),
        ("auditor", {"王小明", "李小红"}),
        ("unit_clerk", {"王小明"}),
        ("township_clerk", {"王小明"}),
        ("bank_clerk", {"王小明"}),
        ("cardholder", {"王小明"}),
    ],
)
def test_it_lists_only_the_tokens_scope(client, world, persona, names):  # type: ignore[no-untyped-def]
    key = _token(world, getattr(world, persona))
    resp = _get(client, "/api/v1/persons", key)
    assert resp.status_code == 200
    data = resp.json()
    assert {p["name"] for p in data["items"]} == names
    assert data["count"] == len(names)


def test_it_refuses_a_person_outside_the_scope_by_id(client, world):  # type: ignore[no-untyped-def]
    key = _token(world, world.unit_clerk)
    assert _get(client, f"/api/v1/persons/{world.person_a.pk}", key).status_code == 200
    resp = _get(client, f"/api/v1/persons/{world.person_b.pk}", key)
    assert resp.status_code == 403
    assert "管辖范围" in resp.json()["detail"]


def test_it_masks_ids_for_a_unit_token_and_not_for_the_centre(client, world):  # type: ignore[no-untyped-def]
    unit = _get(client, f"/api/v1/persons/{world.person_a.pk}", _token(world, world.unit_clerk)).json()
    assert unit["ssn"] != world.person_a.ssn and unit["ssn"].endswith(world.person_a.ssn[-4:])
    assert "*" in unit["current_account"]["account_no"]
    centre = _get(client, f"/api/v1/persons/{world.person_a.pk}", _token(world, world.centre_clerk)).json()
    assert centre["ssn"] == world.person_a.ssn


def test_it_serves_the_browser_session_too(client, world):  # type: ignore[no-untyped-def]
    assert client.login(username="town", password=PASSWORD)
    data = client.get("/api/v1/persons").json()
    assert [p["name"] for p in data["items"]] == ["王小明"]


def test_it_scopes_organisations(client, world):  # type: ignore[no-untyped-def]
    key = _token(world, world.unit_clerk)
    emps = _get(client, "/api/v1/employers", key).json()["items"]
    assert [e["name"] for e in emps] == ["甲单位"]
    assert _get(client, "/api/v1/banks", key).json()["items"] == []
    bank_key = _token(world, world.bank_clerk)
    assert [b["name"] for b in _get(client, "/api/v1/banks", bank_key).json()["items"]] == ["甲银行"]


def test_it_publishes_openapi_docs(client, world):  # type: ignore[no-untyped-def]
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert "/api/v1/persons" in resp.json()["paths"]


def test_it_only_lets_supervisors_issue_tokens(world):  # type: ignore[no-untyped-def]
    from shebao.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        token_create(actor=world.centre_clerk, user=world.centre_clerk, name="x")

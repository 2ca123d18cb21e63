from __future__ import annotations

from django.test import override_settings

from tests.factories import PASSWORD


def test_it_logs_in_and_shows_the_role_aware_navigation(client, world):  # type: ignore[no-untyped-def]
    resp = client.post("/login/", {"username": "unit", "password": PASSWORD}, follow=True)
    body = resp.content.decode()
    assert resp.status_code == 200 and "甲单位" in body
    assert "人员查询" in body and "人员导入" not in body and "审计日志" not in body


def test_it_shows_the_centre_clerk_the_import_menu(client, world):  # type: ignore[no-untyped-def]
    body = client.post("/login/", {"username": "clerk", "password": PASSWORD}, follow=True).content.decode()
    assert "人员导入" in body


@override_settings(LOGIN_MAX_FAILURES=3)
def test_it_locks_a_username_after_repeated_failures(client, world):  # type: ignore[no-untyped-def]
    for _ in range(3):
        resp = client.post("/login/", {"username": "unit", "password": "wrong"})
        assert resp.status_code == 200
    resp = client.post("/login/", {"username": "unit", "password": PASSWORD})
    assert "锁定" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_clears_failures_after_a_good_login(client, world):  # type: ignore[no-untyped-def]
    from shebao.accounts.models import LoginFailure

    client.post("/login/", {"username": "unit", "password": "wrong"})
    assert LoginFailure.objects.count() == 1
    assert client.login(username="unit", password=PASSWORD)
    assert LoginFailure.objects.count() == 0


def test_it_refuses_logout_by_get(client, world):  # type: ignore[no-untyped-def]
    assert client.login(username="unit", password=PASSWORD)
    assert client.get("/logout/").status_code == 405


def test_it_enforces_the_role_scope_constraint(world):  # type: ignore[no-untyped-def]
    import pytest
    from django.db import IntegrityError, transaction

    from shebao.accounts.models import User

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="x", role="unit_clerk")

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from shebao.core import config


def test_it_parses_booleans_strictly(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("X_FLAG", "yes")
    assert config.env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured):
        config.env_bool("X_FLAG")


def test_it_fails_fast_on_a_bad_integer(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(ImproperlyConfigured):
        config.env_int("X_INT", 1)


def test_it_requires_a_secret_key_in_production(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured):
        config.secret_key(tmp_path, debug=False)
    key = config.secret_key(tmp_path, debug=True)
    assert len(key) >= 32 and config.secret_key(tmp_path, debug=True) == key


def test_it_refuses_a_short_secret_key(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ImproperlyConfigured):
        config.secret_key(tmp_path, debug=False)


def test_it_defaults_to_sqlite_in_wal_mode(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db = config.database_config(tmp_path / "x.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]  # type: ignore[index]


def test_it_reads_a_postgres_url(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/shebao")
    db = config.database_config(tmp_path / "x.sqlite3")
    assert db["ENGINE"] == "django.db.backends.postgresql" and db["NAME"] == "shebao"


def test_it_refuses_an_unknown_database_url(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    with pytest.raises(ImproperlyConfigured):
        config.database_config(tmp_path / "x.sqlite3")


def test_it_reads_an_amount_in_yuan_and_fails_fast_on_a_bad_one(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.delenv("X_FEE", raising=False)
    assert config.env_yuan("X_FEE", "20") == "20.00"
    monkeypatch.setenv("X_FEE", "15.5")
    assert config.env_yuan("X_FEE", "20") == "15.50"
    monkeypatch.setenv("X_FEE", "1.234")
    with pytest.raises(ImproperlyConfigured, match="X_FEE"):
        config.env_yuan("X_FEE", "20")

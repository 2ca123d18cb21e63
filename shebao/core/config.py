"""Typed environment helpers that fail fast on a bad value (after healthchecks' settings)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"Environment variable {name} is required")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None


def env_yuan(name: str, default: str) -> str:
    """An amount in yuan with at most two decimals (kept as text; parse it with parse_yuan where used)."""
    from shebao.core.errors import ValidationError
    from shebao.core.values.money import parse_yuan

    value = os.environ.get(name)
    raw = default if value is None or value.strip() == "" else value.strip()
    try:
        return str(parse_yuan(raw))
    except ValidationError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an amount in yuan: {exc.message}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def secret_key(data_dir: Path, *, debug: bool) -> str:
    """SECRET_KEY from the environment; in debug/demo mode generated once into a local file."""
    value = os.environ.get("SECRET_KEY")
    if value:
        if len(value) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters")
        return value
    if not debug:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def database_config(default_sqlite_path: Path) -> dict[str, object]:
    """DATABASE_URL (postgres:// or sqlite:///) or an embedded SQLite file in WAL mode."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{default_sqlite_path}"
    if not (url.startswith("sqlite:") or url.startswith(("postgres://", "postgresql://", "pgsql://"))):
        raise ImproperlyConfigured(f"DATABASE_URL must be sqlite:/// or postgres://, got {url.split(':')[0]}:")
    config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        default_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                "PRAGMA busy_timeout=30000; PRAGMA cache_size=-64000;"
            ),
        }
        config["CONN_MAX_AGE"] = 0
        test = config.setdefault("TEST", {})
        assert isinstance(test, dict)
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config

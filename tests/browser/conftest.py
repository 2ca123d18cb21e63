"""Marks this folder's tests; the Playwright fixtures live in tests/playwright_support.py (one browser per session)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.playwright_support import ARGS, CHROMIUM, login  # noqa: F401  (imported by other suites)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)

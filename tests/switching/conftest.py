from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _switching_settings(settings: Any, tmp_path: Any) -> None:
    settings.SHEBAO_JOBS_INLINE = True
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The personas' passwords are hashed on every test; a fast hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class BrowserThread:
    """Chromium driven by Playwright's sync API in a thread of its own.

    Another app's conftest may already hold a sync Playwright in the main thread for the whole session,
    and a second one cannot start there; a separate thread has no running event loop, so it can.
    `call(fn)` runs `fn(browser)` in that thread and re-raises its exception here.
    """

    def __init__(self) -> None:
        import queue
        import threading

        self._jobs: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="playwright", daemon=True)
        self._thread.start()
        self._ready.wait(60)
        if self._failure is not None:
            raise self._failure

    def _serve(self) -> None:
        from django.db import connections
        from playwright.sync_api import sync_playwright

        from tests.browser.conftest import ARGS, CHROMIUM

        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                self._ready.set()
                while (job := self._jobs.get()) is not None:
                    fn, box = job
                    try:
                        box["result"] = fn(browser)
                    except BaseException as exc:  # handed back to the test's thread
                        box["error"] = exc
                    finally:
                        connections.close_all()
                        box["done"].set()
                browser.close()
        except BaseException as exc:
            self._failure = exc
            self._ready.set()

    def call(self, fn: Any) -> Any:
        import threading

        box: dict[str, Any] = {"done": threading.Event()}
        self._jobs.put((fn, box))
        if not box["done"].wait(180):
            raise TimeoutError("浏览器操作超时")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(30)


@pytest.fixture(scope="session")
def browser_thread() -> Any:
    import os

    from tests.browser.conftest import CHROMIUM

    if os.environ.get("SHEBAO_SKIP_BROWSER") == "1":
        pytest.skip("SHEBAO_SKIP_BROWSER=1")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (scripts/test does this)")
    runner = BrowserThread()
    yield runner
    runner.stop()


@pytest.fixture
def run_page(browser_thread: Any, live_server: Any) -> Any:
    """run_page(steps): steps(page) runs in the browser thread on a fresh context against the live server."""

    def run(steps: Any) -> Any:
        def job(browser: Any) -> Any:
            context = browser.new_context(
                locale="zh-CN", viewport={"width": 1440, "height": 1000}, accept_downloads=True
            )
            try:
                pg = context.new_page()
                pg.set_default_timeout(15000)
                pg.base_url = live_server.url
                return steps(pg)
            finally:
                context.close()

        return browser_thread.call(job)

    return run

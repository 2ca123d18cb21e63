"""The 核实反馈表 opens cleanly in LibreOffice, and a form LibreOffice saved comes back in.

With LibreOffice installed (soffice / libreoffice on PATH) the downloaded xlsx is converted headless; without
it the file is re-read with python-calamine, the reader the return upload uses.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from shebao.switching.forms_xlsx import HEADERS
from shebao.switching.models import AccountChange, VerificationForm
from tests.switching.factories import (
    NEW_ACCOUNT,
    NOT_NOW,
    SWITCH,
    downloaded_rows,
    fill,
    setup_forms_world,
    upload,
    write_filled_xlsx,
)

pytestmark = pytest.mark.django_db


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(source: Path, to: str, out_dir: Path) -> Path:
    """`libreoffice --headless --convert-to` with a profile of its own (no clash with a running office)."""
    binary = soffice()
    assert binary is not None
    profile = out_dir / "lo-profile"
    done = subprocess.run(
        [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            to,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(out_dir)},
    )
    target = out_dir / f"{source.stem}.{to.split(':')[0]}"
    assert done.returncode == 0 and target.exists(), done.stdout + done.stderr
    return target


def _sheet(data: bytes) -> list[list[Any]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == ["核实反馈表"]
    return [["" if v is None else v for v in row] for row in book.get_sheet_by_index(0).to_python()]


def _text(rows: list[list[Any]]) -> list[list[str]]:
    def cell(v: Any) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    out = [[cell(v) for v in row] for row in rows]
    while out and not any(out[-1]):
        out.pop()
    return [row + [""] * (len(HEADERS) - len(row)) if len(row) < len(HEADERS) else row for row in out]


def _download(client: Any, world: Any) -> tuple[VerificationForm, bytes, dict[str, Any]]:
    from django.urls import reverse

    data = setup_forms_world(world)
    form = VerificationForm.objects.get(employer=world.unit_a)
    client.force_login(world.unit_clerk)
    response = client.get(reverse("switching:form_download", args=[form.pk]))
    return form, b"".join(response.streaming_content), data


def test_the_form_opens_cleanly(world: Any, client: Any, tmp_path: Path) -> None:
    form, content, data = _download(client, world)
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert z.testzip() is None
    original = _text(_sheet(content))
    assert form.code in original[1] and tuple(original[2][: len(HEADERS)]) == HEADERS
    assert sorted(r[2] for r in original[3:]) == sorted([data["a"].name, data["a2"].name])
    if soffice() is None:
        return  # calamine read it above, as the return upload will
    source = tmp_path / "form.xlsx"
    source.write_bytes(content)
    for kind in ("ods", "xlsx:Calc MS Excel 2007 XML"):
        out = tmp_path / kind.split(":")[0]
        out.mkdir()
        converted = convert(source, kind, out)
        assert _text(_sheet(converted.read_bytes()))[: len(original)] == original


@pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")
def test_a_form_filled_and_saved_by_libreoffice_is_accepted(world: Any, client: Any, tmp_path: Path) -> None:
    form, _content, data = _download(client, world)
    rows = fill(
        downloaded_rows(client, world.unit_clerk, form),
        {data["a"].name: (SWITCH, NEW_ACCOUNT, ""), data["a2"].name: (NOT_NOW, "", "卧床不起")},
    )
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(write_filled_xlsx(rows))
    saved = convert(filled, "ods", tmp_path)
    response = upload(client, form, saved.read_bytes(), name="反馈表.ods")
    assert response.status_code == 302, response.context and response.context.get("problems")
    form.refresh_from_db()
    assert form.state == "returned"
    change = AccountChange.objects.get()
    assert (change.person, change.account_no) == (data["a"], NEW_ACCOUNT)

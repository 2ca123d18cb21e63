"""`shebao import_persons FILE [--actor USERNAME]`: counts on success, every problem and exit 1 on errors."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from shebao.audit import actions
from shebao.audit.models import AuditLog
from shebao.people.models import Person
from tests.people import write_csv
from tests.people.test_import_persons import rows_for


def shebao(*args: str) -> int:
    """What `shebao ARGS` exits with. call_command instead of the real entry point, which closes the
    database connections at the end (and with them the test's transaction on PostgreSQL); like
    run_from_argv, a CommandError goes to stderr and becomes the exit code."""
    import sys

    try:
        call_command(*args)
    except CommandError as exc:
        sys.stderr.write(f"CommandError: {exc}\n")
        return exc.returncode
    return 0


def test_it_imports_and_prints_the_counts(world, tmp_path, capsys):
    path = write_csv(tmp_path / "p.csv", rows_for(world))

    code = shebao("import_persons", str(path), "--actor", world.centre_clerk.username)

    out = capsys.readouterr().out
    assert code == 0
    assert "共 3 行：新增 3 人，更新 0 人，未变 0 人" in out
    assert AuditLog.objects.get(action=actions.PERSON_IMPORT).actor == world.centre_clerk


def test_it_runs_as_the_system_without_an_actor(world, tmp_path, capsys, settings):
    settings.SHEBAO_REGION_CODE = world.region.code
    path = write_csv(tmp_path / "p.csv", rows_for(world))

    assert shebao("import_persons", str(path)) == 0
    assert AuditLog.objects.get(action=actions.PERSON_IMPORT).actor_label == "系统"

    assert shebao("import_persons", str(path)) == 0
    assert "未做任何修改" in capsys.readouterr().out


def test_it_prints_every_problem_and_exits_non_zero(world, tmp_path, capsys):
    rows = rows_for(world)
    rows[1][1] = "=cmd|' /C calc'!A0"
    rows[3][0] = "123"
    before = Person.objects.count()

    code = shebao("import_persons", str(write_csv(tmp_path / "p.csv", rows)), "--actor", "clerk")

    err = capsys.readouterr().err
    assert code == 1
    assert "第2行\t姓名\t=cmd|' /C calc'!A0\t姓名不能以“=”开头" in err
    assert "第4行\t社会保障号码\t123\t" in err
    assert "文件有 2 个问题，未导入任何数据" in err
    assert Person.objects.count() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.csv"], "文件不存在"),
        (["{file}", "--actor", "nobody"], "用户不存在"),
        (["{file}", "--actor", "unit"], "无权"),
    ],
)
def test_it_explains_what_stops_it(world, tmp_path, capsys, args, message):
    path = write_csv(tmp_path / "p.csv", rows_for(world))

    code = shebao("import_persons", *[a.format(file=path) for a in args])

    assert code == 1
    assert message in capsys.readouterr().err

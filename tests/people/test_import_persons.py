"""persons_import: formats, every kind of bad input, idempotence, updates with audit rows, accounts."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from shebao.audit import actions
from shebao.audit.models import AuditLog
from shebao.core.errors import PermissionDenied
from shebao.core.values.bank import luhn_check_digit
from shebao.core.values.ssn import make_ssn
from shebao.people.importers import FileUnreadable, ImportRejected, Problem, write_error_file
from shebao.people.models import ImportBatch, PaymentAccount, Person, PersonCategory
from shebao.people.services import account_add, person_create, person_update, persons_import
from tests.people import write_csv, write_ods, write_xls, write_xlsx

HEADER = ["社会保障号码", "姓名", "民族", "联系电话", "单位编号", "乡镇代码", "人员类别"]
ACCOUNT_HEADER = ["社会保障号码", "姓名", "开户银行代码", "银行账号", "账户户名", "账户类型", "启用期"]


def new_ssn(n: int) -> str:
    """SSNs of people not in the world fixture (its factory numbers use 341521)."""
    return make_ssn("340422", dt.date(1950, 1, 1) + dt.timedelta(days=n * 101), n % 1000)


def wrong_check_digit(ssn: str) -> str:
    return ssn[:-1] + ("1" if ssn[-1] == "0" else "0")


def account_no(n: int) -> str:
    partial = f"621700{n:012d}"
    return partial + luhn_check_digit(partial)


def rows_for(world: Any) -> list[list[Any]]:
    return [
        HEADER,
        [new_ssn(1), "赵大海", "汉族", "13800000001", world.unit_a.code, world.town_a.code, "企业退休人员"],
        [new_ssn(2), "买买提·艾力", "维吾尔族", "", world.unit_b.code, "", "企业退休人员、遗属待遇领取人员"],
        [new_ssn(3), "钱小芳", "", "", "", world.town_b.code, ""],
    ]


def snapshot() -> tuple[Any, ...]:
    return (
        list(Person.objects.order_by("pk").values_list()),
        list(PersonCategory.objects.order_by("pk").values_list()),
        list(PaymentAccount.objects.order_by("pk").values_list()),
        ImportBatch.objects.count(),
        AuditLog.objects.count(),
    )


def run(world: Any, path: Path, actor: Any = None) -> Any:
    return persons_import(actor=actor or world.centre_clerk, path=path, file_name=path.name)


def rejected(world: Any, path: Path) -> list[Problem]:
    before = snapshot()
    with pytest.raises(ImportRejected) as caught:
        run(world, path)
    assert snapshot() == before, "a rejected file must not change anything"
    return caught.value.problems


def find(problems: list[Problem], row: int | None, column: str, text: str) -> Problem:
    for p in problems:
        if p.row == row and p.column == column and text in p.message:
            return p
    raise AssertionError(f"no problem at row {row} column {column} containing {text!r}: {problems}")


# --- formats -------------------------------------------------------------------------------------


def test_it_imports_a_utf8_csv(world, tmp_path):
    result = run(world, write_csv(tmp_path / "persons.csv", rows_for(world)))

    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    zhao = Person.objects.get(ssn=new_ssn(1))
    assert zhao.name == "赵大海"
    assert zhao.name_initials == "zdh"
    assert zhao.birth_date == dt.date(1950, 4, 12)  # from the SSN, never from the file
    assert zhao.sex == "1"
    assert (zhao.employer, zhao.township, zhao.region) == (world.unit_a, world.town_a, world.region)
    assert zhao.lives_in_region is True
    assert zhao.import_batch == result.batch
    maimaiti = Person.objects.get(ssn=new_ssn(2))
    assert sorted(maimaiti.categories.values_list("category", flat=True)) == [
        "enterprise_retiree",
        "survivor",
    ]
    batch = ImportBatch.objects.get()
    assert (batch.kind, batch.row_count, batch.created_count, batch.file_name) == (
        "persons",
        3,
        3,
        "persons.csv",
    )
    log = AuditLog.objects.get(action=actions.PERSON_IMPORT)
    assert log.new["created"] == 3
    assert log.new["checksum"] == batch.checksum
    assert log.actor == world.centre_clerk


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig"])
def test_it_reads_csv_in_gbk_and_with_a_bom(world, tmp_path, encoding):
    result = run(world, write_csv(tmp_path / "persons.csv", rows_for(world), encoding=encoding))

    assert result.created == 3
    assert Person.objects.get(ssn=new_ssn(2)).name == "买买提·艾力"


@pytest.mark.parametrize("writer", [write_xlsx, write_ods, write_xls], ids=["xlsx", "ods", "xls"])
def test_it_reads_spreadsheets(world, tmp_path, writer):
    suffix = {"write_xlsx": ".xlsx", "write_ods": ".ods", "write_xls": ".xls"}[writer.__name__]
    rows = rows_for(world)
    rows[1][3] = 13800000001  # a phone typed as a number is fine: it has no lost digits
    result = run(world, writer(tmp_path / f"persons{suffix}", rows))

    assert result.created == 3
    assert Person.objects.get(ssn=new_ssn(1)).phone == "13800000001"


def test_it_counts_rows_as_the_spreadsheet_shows_them(world, tmp_path):
    rows = [[], ["人员名单"], HEADER, [], [new_ssn(1), "赵大海"], [wrong_check_digit(new_ssn(2)), "钱小芳"]]
    rows[1] = []  # the header is the first non-empty row
    problems = rejected(world, write_xlsx(tmp_path / "p.xlsx", rows))

    assert find(problems, 6, "社会保障号码", "校验位")


def test_it_converts_a_15_digit_legacy_number(world, tmp_path):
    legacy = "341521500101001"  # born 1950-01-01
    run(world, write_csv(tmp_path / "p.csv", [["社会保障号码", "姓名"], [legacy, "孙老"]]))

    person = Person.objects.get(name="孙老")
    assert person.ssn.startswith("34152119500101001")
    assert person.birth_date == dt.date(1950, 1, 1)


# --- bad input: nothing is written, every problem names its row and column ------------------------


def test_it_refuses_a_file_that_is_not_a_spreadsheet(world, tmp_path):
    path = tmp_path / "persons.xlsx"
    path.write_bytes(os.urandom(3000))
    before = snapshot()

    with pytest.raises(FileUnreadable, match="不是有效的 XLSX"):
        run(world, path)
    assert snapshot() == before


def test_it_refuses_a_damaged_xls_without_crashing(world, tmp_path):
    path = write_xls(tmp_path / "persons.xls", rows_for(world))
    data = bytearray(path.read_bytes())
    # Cut the declared stream size below the mini-stream cutoff: calamine panics on such a file.
    directory = len(data) - 1024
    data[directory + 128 + 120 : directory + 128 + 124] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))

    with pytest.raises(FileUnreadable, match="XLS"):
        run(world, path)


def test_it_refuses_a_csv_in_an_unknown_encoding(world, tmp_path):
    path = tmp_path / "persons.csv"
    path.write_bytes("社会保障号码,姓名\n".encode() + b"\xff\xfe\x80\x81\xff\n")

    with pytest.raises(FileUnreadable, match="编码"):
        run(world, path)


def test_it_refuses_a_workbook_renamed_to_csv(world, tmp_path):
    path = write_xlsx(tmp_path / "persons.xlsx", rows_for(world)).rename(tmp_path / "persons.csv")

    with pytest.raises(FileUnreadable, match="不是 CSV"):
        run(world, path)


def test_it_refuses_an_empty_file_and_a_header_without_rows(world, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileUnreadable, match="空"):
        run(world, empty)

    problems = rejected(world, write_csv(tmp_path / "header.csv", [HEADER]))
    assert "没有人员数据" in problems[0].message


BAD_CELLS = [
    # column, value, expected message fragment
    ("社会保障号码", "34152119500101001", "18位"),
    ("社会保障号码", wrong_check_digit(make_ssn("340422", dt.date(1950, 1, 1), 5)), "校验位"),
    ("姓名", "张" * 51, "最多50个字"),
    ("姓名", "<script>alert(1)</script>", "<"),
    ("姓名", "=cmd|' /C calc'!A0", "开头"),
    ("姓名", "", "不能为空"),
    ("单位编号", "NO-SUCH-UNIT", "单位编号不存在"),
    ("乡镇代码", "999999999", "乡镇代码不存在"),
    ("人员类别", "退休干部", "未知的人员类别"),
    ("联系电话", "call me", "联系电话"),
    ("民族", "=HYPERLINK(1)", "开头"),
    ("居住地", "外地", "区内"),
    ("死亡日期", "2020/13/45", "YYYY-MM-DD"),
    ("死亡日期", "1901-01-01", "早于出生日期"),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD_CELLS, ids=[f"{c}-{m}" for c, _, m in BAD_CELLS])
def test_it_reports_a_bad_cell_by_row_and_column(world, tmp_path, column, value, message):
    header = [*HEADER, "居住地", "死亡日期"]
    good = [
        new_ssn(7),
        "周正",
        "汉族",
        "13800000007",
        world.unit_a.code,
        world.town_a.code,
        "企业退休人员",
        "区内",
        "",
    ]
    bad = list(good)
    bad[0] = new_ssn(8)
    bad[header.index(column)] = value
    problems = rejected(world, write_csv(tmp_path / "p.csv", [header, good, bad]))

    problem = find(problems, 3, column, message)
    assert problem.value == value.strip()[:200]
    assert not [p for p in problems if p.row == 2], "the good row has no problem"


def test_it_reports_a_duplicate_ssn_naming_both_rows(world, tmp_path):
    rows = rows_for(world)
    rows.append([new_ssn(1), "赵大海", "", "", "", "", ""])
    problems = rejected(world, write_csv(tmp_path / "p.csv", rows))

    problem = find(problems, 5, "社会保障号码", "重复")
    assert "第2行" in problem.message and "第5行" in problem.message
    assert problem.value == new_ssn(1)


def test_it_refuses_an_ssn_stored_as_a_number(world, tmp_path):
    rows = rows_for(world)
    rows[2][0] = float(new_ssn(2)[:17] + "0")  # what Excel keeps of an 18-digit number
    problems = rejected(world, write_xlsx(tmp_path / "p.xlsx", rows))

    assert find(problems, 3, "社会保障号码", "文本格式")


def test_it_refuses_an_ssn_in_scientific_notation(world, tmp_path):
    rows = rows_for(world)
    rows[2][0] = "3.40422E+17"  # a CSV saved back by Excel
    problems = rejected(world, write_csv(tmp_path / "p.csv", rows))

    assert find(problems, 3, "社会保障号码", "科学计数法")


def test_it_names_unknown_and_missing_headers(world, tmp_path):
    problems = rejected(world, write_csv(tmp_path / "p.csv", [["身份证号", "姓名", "性别"], ["x", "y", "z"]]))

    assert find(problems, 1, "身份证号", "未知的列")
    assert find(problems, 1, "性别", "未知的列")
    assert find(problems, 1, "社会保障号码", "缺少必需的列")


def test_it_lists_every_problem_not_only_the_first(world, tmp_path):
    rows = rows_for(world)
    rows[1][1] = "<b>"
    rows[2][4] = "NOPE"
    rows[3][0] = "123"
    problems = rejected(world, write_csv(tmp_path / "p.csv", rows))

    assert find(problems, 2, "姓名", "<")
    assert find(problems, 3, "单位编号", "不存在")
    assert find(problems, 4, "社会保障号码", "18位")


ACCOUNT_CASES = [
    ("银行账号", "6217 0000 1234", "16至19位"),
    ("账户类型", "信用卡", "账户类型只能填写"),
    ("启用期", "2024-13", "月份"),
    ("开户银行代码", "NOBANK", "开户银行代码不存在"),
    ("账户户名", "", "必须填写"),
]


@pytest.mark.parametrize(("column", "value", "message"), ACCOUNT_CASES, ids=[c for c, _, _ in ACCOUNT_CASES])
def test_it_checks_the_account_columns(world, tmp_path, column, value, message):
    row = [new_ssn(9), "吴用", world.bank_a.code, account_no(9), "吴用", "社保卡账户", "202401"]
    row[ACCOUNT_HEADER.index(column)] = value
    problems = rejected(world, write_csv(tmp_path / "p.csv", [ACCOUNT_HEADER, row]))

    assert find(problems, 2, column, message)


def test_it_refuses_an_account_number_stored_as_a_number(world, tmp_path):
    row = [new_ssn(9), "吴用", world.bank_a.code, 6.217000000000001e18, "吴用", "社保卡账户", "202401"]
    problems = rejected(world, write_xlsx(tmp_path / "p.xlsx", [ACCOUNT_HEADER, row]))

    assert find(problems, 2, "银行账号", "文本格式")


def test_it_refuses_account_columns_that_are_not_all_there(world, tmp_path):
    problems = rejected(
        world,
        write_csv(
            tmp_path / "p.csv", [["社会保障号码", "姓名", "银行账号"], [new_ssn(9), "吴用", account_no(9)]]
        ),
    )

    assert "发放账户的列不完整" in problems[0].message


def test_it_only_warns_about_a_luhn_failure(world, tmp_path):
    bad_luhn = account_no(9)[:-1] + str((int(account_no(9)[-1]) + 1) % 10)
    row = [new_ssn(9), "吴用", world.bank_a.code, bad_luhn, "吴用", "存折", "202401"]
    result = run(world, write_csv(tmp_path / "p.csv", [ACCOUNT_HEADER, row]))

    assert result.created == 1
    assert [(w.row, w.column) for w in result.warnings] == [(2, "银行账号")]
    assert "Luhn" in result.warnings[0].message
    assert PaymentAccount.objects.get(person__ssn=new_ssn(9)).account_no == bad_luhn


def test_it_warns_when_the_account_holder_is_someone_else(world, tmp_path):
    row = [new_ssn(9), "吴用", world.bank_a.code, account_no(9), "吴用之", "社保卡账户", "202401"]
    result = run(world, write_csv(tmp_path / "p.csv", [ACCOUNT_HEADER, row]))

    assert [w.column for w in result.warnings] == ["账户户名"]


# --- idempotence ---------------------------------------------------------------------------------


def test_it_changes_nothing_when_the_same_file_comes_again(world, tmp_path):
    path = write_csv(tmp_path / "p.csv", rows_for(world))
    first = run(world, path)
    before = snapshot()

    again = run(world, path)

    assert snapshot() == before
    assert again.already_imported == first.batch
    assert again.message.startswith("该文件已于") and again.message.endswith("导入，未做任何修改")


def test_it_changes_no_person_when_other_bytes_carry_the_same_rows(world, tmp_path):
    run(world, write_csv(tmp_path / "p.csv", rows_for(world)))
    persons = list(Person.objects.order_by("pk").values_list())
    updates = AuditLog.objects.filter(action=actions.PERSON_UPDATE).count()

    result = run(world, write_xlsx(tmp_path / "p.xlsx", rows_for(world)))

    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert list(Person.objects.order_by("pk").values_list()) == persons
    assert AuditLog.objects.filter(action=actions.PERSON_UPDATE).count() == updates


# --- updates -------------------------------------------------------------------------------------


def test_it_updates_a_changed_person_and_audits_old_and_new(world, tmp_path):
    person = world.person_a
    rows = [HEADER, [person.ssn, "王大明", "回族", "13900000000", world.unit_b.code, "", "离休干部"]]

    result = run(world, write_csv(tmp_path / "p.csv", rows))

    assert (result.created, result.updated) == (0, 1)
    person.refresh_from_db()
    assert (person.name, person.name_initials, person.phone, person.employer) == (
        "王大明",
        "wdm",
        "13900000000",
        world.unit_b,
    )
    assert person.township == world.town_a, "a blank cell keeps the stored value"
    assert list(person.categories.values_list("category", flat=True)) == ["retired_cadre"]
    log = AuditLog.objects.get(action=actions.PERSON_UPDATE, object_id=str(person.pk))
    assert log.old["name"] == "王小明" and log.new["name"] == "王大明"
    assert log.old["employer"] == world.unit_a.code and log.new["employer"] == world.unit_b.code
    assert log.new["categories"] == ["retired_cadre"]
    assert log.actor == world.centre_clerk
    assert not AuditLog.objects.filter(
        action=actions.PERSON_UPDATE, object_id=str(world.person_b.pk)
    ).exists()


def test_it_appends_a_new_account_and_keeps_the_old_one(world, tmp_path):
    person = world.person_a
    old = PaymentAccount.objects.get(person=person)
    row = [person.ssn, person.name, world.bank_b.code, account_no(42), person.name, "社保卡账户", "202601"]

    result = run(world, write_csv(tmp_path / "p.csv", [ACCOUNT_HEADER, row]))

    assert (result.updated, result.accounts_added) == (1, 1)
    accounts = list(PaymentAccount.objects.filter(person=person).order_by("valid_from"))
    assert [a.pk for a in accounts][0] == old.pk
    assert accounts[0].account_no == old.account_no, "history is never overwritten"
    assert (accounts[1].account_no, accounts[1].valid_from, accounts[1].source) == (
        account_no(42),
        202601,
        "import",
    )
    log = AuditLog.objects.get(action=actions.PERSON_UPDATE, object_id=str(person.pk))
    assert log.old["account"]["account_no"] == old.account_no
    assert log.new["account"]["account_no"] == account_no(42)

    # The same account again, in other bytes: nothing new.
    again = run(world, write_xlsx(tmp_path / "p.xlsx", [ACCOUNT_HEADER, row]))
    assert (again.updated, again.unchanged, again.accounts_added) == (0, 1, 0)
    assert PaymentAccount.objects.filter(person=person).count() == 2


def test_it_refuses_to_change_a_person_of_another_region(world, tmp_path):
    from tests.factories import PersonFactory, RegionFactory

    elsewhere = PersonFactory(region=RegionFactory(code="340100", name="合肥市"), name="外地人")
    problems = rejected(
        world, write_csv(tmp_path / "p.csv", [["社会保障号码", "姓名"], [elsewhere.ssn, "改名"]])
    )

    assert find(problems, 2, "社会保障号码", "其他统筹区")


def test_it_is_refused_to_a_unit_clerk(world, tmp_path):
    with pytest.raises(PermissionDenied):
        run(world, write_csv(tmp_path / "p.csv", rows_for(world)), actor=world.unit_clerk)


def test_it_reports_progress_up_to_the_row_count(world, tmp_path):
    class Recorder:
        def __init__(self) -> None:
            self.total = 0
            self.done: list[int] = []

        def set_total(self, total: int) -> None:
            self.total = total

        def advance(self, done: int, message: str = "", *, force: bool = False) -> None:
            self.done.append(done)

    progress = Recorder()
    persons_import(
        actor=world.centre_clerk,
        path=write_csv(tmp_path / "p.csv", rows_for(world)),
        file_name="p.csv",
        progress=progress,
    )

    assert progress.total == 3
    assert progress.done == sorted(progress.done)
    assert progress.done[-1] == 3


# --- the error file ------------------------------------------------------------------------------


def test_it_writes_an_error_file_that_imports_once_corrected(world, tmp_path):
    rows = rows_for(world)
    rows[2][1] = "<b>买买提</b>"
    source = write_csv(tmp_path / "p.csv", rows)
    with pytest.raises(ImportRejected) as caught:
        run(world, source)

    target = tmp_path / "errors.xlsx"
    write_error_file(source, caught.value.problems, target)

    with CalamineWorkbook.from_path(str(target)) as workbook:
        sheet = list(workbook.get_sheet_by_index(0).iter_rows())
    assert sheet[0] == [*HEADER, "错误说明"]
    assert sheet[1][0] == new_ssn(1), "identifiers stay text"
    assert sheet[1][-1] == ""
    assert "【姓名】" in sheet[2][-1] and "<" in sheet[2][-1]

    # The clerk corrects the name in the error file and uploads it as it is, 错误说明 column and all.
    sheet[2][1] = "买买提"
    result = run(world, write_xlsx(tmp_path / "fixed.xlsx", sheet))
    assert result.created == 3


# --- single-row services -------------------------------------------------------------------------


def test_it_creates_updates_and_adds_an_account_with_audit_rows(world):
    person = person_create(
        actor=world.centre_clerk,
        region=world.region,
        ssn=new_ssn(11),
        name="陈 小 春",
        categories=["enterprise_retiree"],
        details={"employer": world.unit_a, "phone": "13800000011"},
    )
    assert (person.name, person.name_initials, person.sex) == ("陈小春", "cxc", "1")

    person_update(
        actor=world.centre_clerk, person=person, changes={"phone": "13800000012"}, reason="本人来电"
    )
    account_add(
        actor=world.centre_clerk,
        person=person,
        account_no=account_no(11),
        account_name="陈小春",
        kind=PaymentAccount.Kind.CARD,
        valid_from="202601",
        bank=world.bank_a,
    )

    logs = {log.action: log for log in AuditLog.objects.filter(object_repr__contains="陈小春")}
    assert logs[actions.PERSON_CREATE].new["categories"] == ["enterprise_retiree"]
    assert (logs[actions.PERSON_UPDATE].old, logs[actions.PERSON_UPDATE].new) == (
        {"phone": "13800000011"},
        {"phone": "13800000012"},
    )
    assert logs[actions.ACCOUNT_ADD].new["valid_from"] == 202601

"""The return file's fast path for clean cells says nothing the general parsers would not.

A clean row (what a factory writes) skips the parsers; these tests check that it is staged exactly as
the parsers would stage it, and that any other row still gets the parsers' verdict and message.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from shebao.cards.importers import COLUMNS, Problem, _GeneralRow, staged_rows
from shebao.core.errors import ValidationError
from shebao.core.values.bank import make_card_uid
from shebao.core.values.ssn import clean_ssn_checker, make_ssn, parse_ssn
from tests.cards.factories import account_no

TODAY = date(2026, 6, 1)
DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, max_examples=300)


def _parsed(text: str) -> str | None:
    try:
        return parse_ssn(text, today=TODAY).value
    except ValidationError:
        return None


def test_it_accepts_clean_numbers_and_leaves_every_other_one_to_the_parser() -> None:
    check = clean_ssn_checker(today=TODAY)
    good = make_ssn("340422", date(1956, 2, 29), 17)
    assert check(good) and _parsed(good) == good
    x = next(
        make_ssn("341521", date(1970, 1, d), 1)
        for d in range(1, 29)
        if make_ssn("341521", date(1970, 1, d), 1)[-1] == "X"
    )
    assert check(x)
    doubtful = [
        x.lower(),  # the parser upper-cases it: not clean as it stands
        f" {good}",
        good[:17] + str((int(good[17]) + 1) % 10) if good[17] != "X" else good[:17] + "0",
        "340422190002290011",  # 1900 was no leap year
        "340422189912310011",
        "340422202701010011",  # born after today
        "999999195602290011",
        "３４０４２２１９５６０２２９０１７",
        "340422560229001",  # 15 digits: converted by the parser, never clean
        "",
    ]
    for text in doubtful:
        assert not check(text), text


@DETERMINISTIC
@given(st.text(alphabet="0123456789Xx ", min_size=16, max_size=19))
def test_it_never_accepts_a_number_the_parser_would_change_or_refuse(text: str) -> None:
    if clean_ssn_checker(today=TODAY)(text):
        assert _parsed(text) == text


@DETERMINISTIC
@given(
    st.sampled_from(["340422", "341521", "110101", "440305"]),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)
def test_it_accepts_every_valid_number_as_written(region: str, born: date, seq: int) -> None:
    ssn = make_ssn(region, born, seq)
    assert clean_ssn_checker(today=TODAY)(ssn) and _parsed(ssn) == ssn


def _file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS.values())
        w.writerows(rows)
    return path


def _row(n: int, **over: str) -> list[str]:
    cells = {
        "card_no": f"K{n:08d}",
        "ssn": make_ssn("340422", date(1960, 1, 1 + n % 28), n),
        "name": "王小明",
        "issue_date": "2024-05-16",
        "expiry_date": "2034-05-16",
        "card_uid": make_card_uid("341521", n),
        "bank_code": "B01",
        "bank_account": account_no(n),
        "box_position": f"B001-{n:03d}",
        "failure_stage": "",
        "failure_reason": "",
    }
    cells.update(over)
    return [cells[key] for key in COLUMNS]


def test_it_stages_a_clean_row_as_the_parsers_stage_its_untidy_spelling(tmp_path, settings) -> None:
    settings.SHEBAO_CARD_VALID_YEARS = 10
    clean = [_row(1), _row(2, expiry_date=""), _row(3, issue_date="20240516")]
    ssn = clean[0][1]
    untidy = [
        _row(1, ssn=f" {ssn[:17]}{ssn[17].lower()} ", card_no=" k00000001", name=" 王小明 "),
        _row(2, expiry_date=" ", bank_account=f"{account_no(2)[:4]}-{account_no(2)[4:]}"),
        _row(3, issue_date="2024/05/16", card_uid=make_card_uid("341521", 3).lower()),
    ]
    problems: list[Problem] = []
    fast = [r[1:] for r in staged_rows(_file(tmp_path / "a.csv", clean), problems)]
    slow = [r[1:] for r in staged_rows(_file(tmp_path / "b.csv", untidy), problems)]
    assert problems == []
    assert fast == slow
    assert [r[6:8] for r in fast] == [("2024-05-16", "2034-05-16")] * 3

    # The general path alone gives the same tuples for the clean rows.
    index = {key: i for i, key in enumerate(COLUMNS)}
    general = _GeneralRow(index, problems, date.today())
    assert [general.parse(line, cells).staged()[1:] for line, cells in enumerate(clean, start=2)] == fast  # type: ignore[union-attr]


def test_it_lists_a_bad_cell_of_an_otherwise_clean_file_with_the_parsers_message(tmp_path) -> None:
    rows = [_row(1), _row(2, card_uid="123"), _row(3, expiry_date="2020-01-01"), _row(4, name="")]
    problems: list[Problem] = []
    staged = list(staged_rows(_file(tmp_path / "c.csv", rows), problems))
    assert len(staged) == 4
    assert [str(p) for p in problems] == [
        "第3行【卡识别码】卡识别码应为32位，当前为3位",
        "第4行【有效期至】有效期须晚于发卡日期",
        "第5行【姓名】姓名不能为空",
    ]


def test_it_reads_a_file_without_the_optional_columns(tmp_path) -> None:
    path = tmp_path / "d.csv"
    keys = [k for k in COLUMNS if k not in ("expiry_date", "box_position", "failure_stage", "failure_reason")]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([COLUMNS[k] for k in keys])
        full = _row(5)
        w.writerow([full[list(COLUMNS).index(k)] for k in keys])
    problems: list[Problem] = []
    (row,) = staged_rows(path, problems)
    assert problems == [] and row[8] is not None and row[9] == "" and row[10:] == ("", "")

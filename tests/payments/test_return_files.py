from __future__ import annotations

from decimal import Decimal

import pytest

from shebao.audit.models import AuditLog
from shebao.payments.layouts import ReturnFileRefused
from shebao.payments.models import PaymentLine, ReturnFile
from shebao.payments.reconciliation import payroll_figures, payroll_reconcile
from shebao.payments.services import return_file_import
from tests.factories import AccountFactory, PersonFactory
from tests.payments.factories import filed, return_bytes


@pytest.fixture
def three(pay, world):
    """Bank A carries three lines (王小明 2345.60, 陈大 1000.10, 刘二 999.99); bank B one."""
    for name, amount in (("陈大", "1000.10"), ("刘二", "999.99")):
        person = PersonFactory(region=world.region, name=name)
        AccountFactory(person=person, bank=world.bank_a)
        from shebao.payments.services import entitlement_create

        entitlement_create(
            person=person,
            benefit_type=pay.pension,
            from_period=202401,
            amount=amount,
            actor=world.centre_clerk,
        )
    payroll = filed(pay)
    return payroll, payroll.bank_files.get(bank=world.bank_a), payroll.bank_files.get(bank=world.bank_b)


def _import(payroll, data, world, name="return.txt"):  # type: ignore[no-untyped-def]
    return return_file_import(payroll=payroll, data=data, file_name=name, actor=world.centre_clerk)


def _states(bank_file):  # type: ignore[no-untyped-def]
    return dict(PaymentLine.objects.filter(bank_file=bank_file).values_list("seq", "state"))


def test_it_applies_a_return_file_and_reconciles_to_the_fen(three, world):
    payroll, file_a, file_b = three

    result = _import(payroll, return_bytes(file_a, failures={2: "name_mismatch"}), world)

    assert (result.paid, result.failed, result.duplicate) == (2, 1, False)
    assert _states(file_a) == {1: "paid", 2: "failed", 3: "paid"}
    failed = PaymentLine.objects.get(bank_file=file_a, seq=2)
    assert (failed.failure_code, failed.get_failure_code_display()) == ("name_mismatch", "户名不符")
    fig = payroll_reconcile(payroll)
    assert (fig.paid.count, fig.paid.amount) == (2, Decimal("3345.59"))
    assert (fig.failed.count, fig.failed.amount) == (1, Decimal("1000.10"))
    assert (fig.pending.count, fig.pending.amount) == (1, Decimal("1800.00"))
    payroll.refresh_from_db()
    assert payroll.state == "filed"

    _import(payroll, return_bytes(file_b, failures={1: "lost"}), world, "b.txt")

    payroll.refresh_from_db()
    fig = payroll_reconcile(payroll)
    assert payroll.state == "reconciled"
    assert fig.people_paid == 2 and fig.success_rate == Decimal("50.00")
    assert [(f.label, f.count) for f in fig.failures] == [("挂失", 1), ("户名不符", 1)]


def test_the_same_file_twice_changes_nothing(three, world):
    payroll, file_a, _ = three
    data = return_bytes(file_a, failures={3: "other"})
    _import(payroll, data, world)
    before = list(
        PaymentLine.objects.order_by("pk").values_list("pk", "state", "failure_code", "failure_text")
    )
    audits = AuditLog.objects.count()

    again = _import(payroll, data, world, "renamed.txt")

    assert again.duplicate is True
    assert (
        list(PaymentLine.objects.order_by("pk").values_list("pk", "state", "failure_code", "failure_text"))
        == before
    )
    assert ReturnFile.objects.count() == 1 and AuditLog.objects.count() == audits
    assert PaymentLine.objects.get(bank_file=file_a, seq=3).failure_text == "其他：账户已止付"


def _refused(payroll, data, world, match):  # type: ignore[no-untyped-def]
    before = list(PaymentLine.objects.order_by("pk").values_list("pk", "state", "failure_code"))
    with pytest.raises(ReturnFileRefused, match=match):
        _import(payroll, data, world)
    assert list(PaymentLine.objects.order_by("pk").values_list("pk", "state", "failure_code")) == before
    assert not ReturnFile.objects.exists()
    payroll_reconcile(payroll)


def test_a_file_for_another_batch_is_refused(three, world):
    payroll, file_a, _ = three
    _refused(
        payroll,
        return_bytes(file_a, header={"batch_no": "202406-PEN-EMP-X-1"}),
        world,
        "不是本发放表的代发批次",
    )


def test_a_file_with_an_unknown_line_is_refused(three, world):
    payroll, file_a, _ = three
    extra = "D|9|6217000000000000099|某人|10.00|0|00|成功"
    data = return_bytes(
        file_a,
        extra=(extra,),
        header={"count": 4, "total": Decimal("4355.69"), "ok_n": 4, "ok_amt": Decimal("4355.69")},
    )
    _refused(payroll, data, world, r"第5行（序号9）：代发文件.*中没有这一笔")


def test_a_file_whose_totals_do_not_add_up_is_refused(three, world):
    payroll, file_a, _ = three
    _refused(
        payroll, return_bytes(file_a, header={"total": Decimal("4345.68")}), world, "文件头总笔数/总金额"
    )


def test_a_file_whose_ok_and_fail_figures_do_not_add_up_is_refused(three, world):
    payroll, file_a, _ = three
    _refused(payroll, return_bytes(file_a, failures={1: "lost"}, header={"fail_n": 2}), world, "文件头失败")


def test_a_file_with_a_changed_amount_on_one_line_is_refused_naming_the_line(three, world):
    payroll, file_a, _ = three
    data = return_bytes(
        file_a,
        amounts={2: Decimal("1000.01")},
        header={"total": Decimal("4345.69"), "ok_amt": Decimal("4345.69")},
    )
    _refused(payroll, data, world, r"第3行（序号2）：金额1000.01与代发金额1000.10不符")


@pytest.mark.parametrize("other", ["6217000000000000099", "62170000000000000990", "621700000000000001Ａ"])
def test_a_file_with_a_changed_account_on_one_line_is_refused_naming_the_line(three, world, other):
    payroll, file_a, _ = three
    line = PaymentLine.objects.get(bank_file=file_a, seq=2)
    text = return_bytes(file_a).decode("gbk").replace(f"D|2|{line.account_no}|", f"D|2|{other}|")

    _refused(payroll, text.encode("gbk"), world, r"第3行（序号2）：账号与代发账号不符")


def test_a_file_missing_a_line_is_refused(three, world):
    payroll, file_a, _ = three
    _refused(payroll, return_bytes(file_a, drop=(3,)), world, r"缺少1笔的处理结果（序号3）")


def test_an_unknown_reason_code_is_refused(three, world):
    payroll, file_a, _ = three
    text = return_bytes(file_a, failures={1: "lost"}).decode("gbk").replace("|1|04|", "|1|42|")
    _refused(payroll, text.encode("gbk"), world, "未知的失败原因代码“42”")


def test_a_file_that_is_not_gbk_is_refused(three, world):
    payroll, file_a, _ = three
    _refused(payroll, return_bytes(file_a).decode("gbk").encode("utf-16"), world, "GBK")


def test_a_different_second_file_for_a_returned_batch_is_refused(three, world):
    payroll, file_a, _ = three
    _import(payroll, return_bytes(file_a), world)
    before = list(PaymentLine.objects.order_by("pk").values_list("state", flat=True))

    with pytest.raises(ReturnFileRefused, match="已导入"):
        _import(payroll, return_bytes(file_a, failures={1: "lost"}), world)

    assert list(PaymentLine.objects.order_by("pk").values_list("state", flat=True)) == before


def test_reconciliation_holds_after_every_step(pay, world):
    from shebao.payments.services import payroll_approve, payroll_file
    from tests.payments.factories import generate

    payroll = generate(pay)
    assert payroll_reconcile(payroll).issued == payroll_figures(payroll).pending
    payroll = payroll_approve(payroll=payroll, actor=world.supervisor)
    payroll_reconcile(payroll)
    payroll_file(payroll=payroll, actor=world.centre_clerk)
    payroll.refresh_from_db()
    assert payroll_reconcile(payroll).pending.count == 2
    for bank_file in payroll.bank_files.all():
        _import(payroll, return_bytes(bank_file), world, f"{bank_file.batch_no}.txt")
        assert payroll_reconcile(payroll).balanced
    fig = payroll_reconcile(payroll)
    assert (fig.paid.count, fig.paid.amount, fig.success_rate) == (2, Decimal("4145.60"), Decimal("100.00"))


def test_a_bank_on_the_csv_layout_files_and_returns_in_csv(pay, world):
    import csv
    import io

    world.bank_b.file_layout = "csv-v1"
    world.bank_b.save()
    payroll = filed(pay)
    bank_file = payroll.bank_files.get(bank=world.bank_b)
    assert bank_file.layout == "csv-v1"
    text = return_bytes(bank_file, failures={1: "card_replacing"}).decode("gbk")
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(line.split("|") for line in text.splitlines())

    result = _import(payroll, "\ufeff".encode() + out.getvalue().encode("utf-8"), world, "b.csv")

    assert (result.paid, result.failed) == (0, 1)
    assert PaymentLine.objects.get(bank_file=bank_file).failure_code == "card_replacing"
    payroll_reconcile(payroll)


def test_line_ends_other_than_crlf_are_refused_but_a_missing_last_one_is_accepted(three, world):
    payroll, file_a, _ = three
    text = return_bytes(file_a).decode("gbk")
    _refused(payroll, text.replace("\r\n", "\n").encode("gbk"), world, "行尾应为CRLF")

    result = _import(payroll, text.removesuffix("\r\n").encode("gbk"), world)

    assert (result.paid, result.failed) == (3, 0)


def test_an_open_file_is_read_in_blocks_with_the_same_result_as_its_bytes(
    three, world, monkeypatch, tmp_path
):
    from shebao.payments.layouts import txt_v1

    payroll, file_a, _ = three
    monkeypatch.setattr(txt_v1, "READ_BLOCK", 7)  # every block boundary falls inside a line
    path = tmp_path / "a.ret"
    path.write_bytes(return_bytes(file_a, failures={2: "lost"}))

    with path.open("rb") as data:
        result = _import(payroll, data, world)

    assert (result.paid, result.failed) == (2, 1)
    assert _states(file_a) == {1: "paid", 2: "failed", 3: "paid"}
    with path.open("rb") as data:
        assert _import(payroll, data, world).duplicate is True  # same checksum, however it is read


def test_a_bad_line_in_a_later_block_is_named_by_its_line_number(three, world, monkeypatch):
    from shebao.payments.layouts import txt_v1

    payroll, file_a, _ = three
    monkeypatch.setattr(txt_v1, "READ_BLOCK", 100)
    text = return_bytes(file_a).decode("gbk")
    lines = text.split("\r\n")
    lines[3] = lines[3].replace("|0|00|", "|0|01|")

    _refused(payroll, "\r\n".join(lines).encode("gbk"), world, r"第4行（序号3）：成功的明细原因代码应为00")
    bare_lf = "\r\n".join(text.split("\r\n")[:3]) + "\n" + "\r\n".join(text.split("\r\n")[3:])
    _refused(payroll, bare_lf.encode("gbk"), world, "第3行：行尾应为CRLF")
    stray_cr = text.split("\r\n")
    stray_cr[2] = stray_cr[2].replace("成功", "成\r功")
    _refused(payroll, "\r\n".join(stray_cr).encode("gbk"), world, "第3行：行尾应为CRLF")
    assert set(_states(file_a).values()) == {"pending"}


@pytest.mark.parametrize(
    "line",
    [
        "D|1|6217|王|2345.60|0|00|成功",
        "D|1|6217|王|0.05|1|99|其他",
        "D|1|6217|王|1.00|1|08|",
        "D|0|6217|王|2345.60|0|00|成功",
        "D|01|6217|王|2345.60|0|00|成功",
        "D|1|6217|王|2345.6|0|00|成功",
        "D|1|6217|王|02345.60|0|00|成功",
        "D|1|6217|王|2345.60|0|01|成功",
        "D|1|6217|王|2345.60|1|00|失败",
        "D|1|6217|王|2345.60|1|09|失败",
        "D|1|6217|王|2345.60|2|00|成功",
        "D|1|6217|王|2345.60|0|00",
        "D|1|6217|王|2345.60|0|00|成功|",
        "X|1|6217|王|2345.60|0|00|成功",
        "D|12345678901|6217|王|2345.60|0|00|成功",
    ],
)
def test_the_fast_reader_accepts_and_refuses_exactly_what_the_line_checks_do(line):
    from shebao.payments.layouts.txt_v1 import TxtV1Layout

    layout = TxtV1Layout()
    head = "H|B1|20240620|110001|1|2345.60|1|2345.60|0|0.00\r\n"
    _, items = layout.iter_return((head + line + "\r\n").encode("gbk"))
    (fast,) = list(items)
    slow = layout._detail(2, line.split("|"))

    assert fast == slow
    if not isinstance(fast, str):
        assert fast.fen == int(fast.amount * 100)


def test_an_import_checks_its_own_file_and_the_last_one_the_whole_payroll(three, world):
    from shebao.payments.models import Payroll
    from shebao.payments.reconciliation import ReconciliationError

    payroll, file_a, file_b = three
    # The approval snapshot no longer matches the lines (as if a line had been changed behind the system).
    Payroll.objects.filter(pk=payroll.pk).update(control_total=Decimal("1.00"))

    _import(payroll, return_bytes(file_a), world)  # only file A's own lines change: its figures hold
    with pytest.raises(ReconciliationError, match="与复核时"):
        _import(payroll, return_bytes(file_b), world, "b.txt")

    assert set(_states(file_b).values()) == {"pending"}
    assert ReturnFile.objects.filter(bank_file=file_b).count() == 0
    payroll.refresh_from_db()
    assert payroll.state == "filed"

"""Forms only parse what the clerk typed; every rule is checked again in the services."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from shebao.cards.models import (
    CardApplication,
    CardIssue,
    CardLocation,
    CardNotice,
    CardState,
    DeliveryMode,
    FinancialChannel,
    Generation,
    SocialChannel,
)
from shebao.orgs.models import Bank, Outlet


class CardSearchForm(forms.Form):
    q = forms.CharField(label="查询", required=False)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *CardState.choices])


class IssueForm(forms.Form):
    mode = forms.ChoiceField(
        label="领取方式",
        choices=[(CardIssue.Mode.PERSONAL, "本人领取"), (CardIssue.Mode.AGENT, "代办人领取")],
        widget=forms.RadioSelect,
        initial=CardIssue.Mode.PERSONAL,
    )
    receiver_name = forms.CharField(label="领取人姓名", max_length=50)
    receiver_ssn = forms.CharField(label="领取人身份证号", max_length=20)
    relation = forms.ChoiceField(
        label="与持卡人关系",
        required=False,
        choices=[("", "—"), *CardApplication.Relation.choices],
        help_text="未预留代办人时必填，只能是直系亲属",
    )
    household_register = forms.BooleanField(label="已查验户口本原件", required=False)
    phone = forms.CharField(label="联系电话（已核对）", max_length=30, required=False)
    address = forms.CharField(label="住址（已核对）", max_length=200, required=False)
    activate_social = forms.BooleanField(label="现场启用人社功能", required=False, initial=True)
    activate_financial = forms.BooleanField(
        label="现场激活金融功能", required=False, help_text="仅限本人领取；代办人领卡须由持卡人本人到银行激活"
    )


class ActivateSocialForm(forms.Form):
    channel = forms.ChoiceField(label="启用方式", choices=SocialChannel.choices)
    place = forms.CharField(label="启用地点", max_length=100)


class ActivateFinancialForm(forms.Form):
    channel = forms.ChoiceField(label="激活方式", choices=FinancialChannel.choices)
    place = forms.CharField(label="激活地点", max_length=100)


class NoticeForm(forms.Form):
    channel = forms.ChoiceField(label="通知方式", choices=CardNotice.Channel.choices)
    note = forms.CharField(label="通知内容", max_length=200, required=False)


class CollectiveForm(forms.Form):
    notice = forms.ModelChoiceField(label="领卡通知", queryset=CardNotice.objects.none(), empty_label=None)
    letter_no = forms.CharField(label="单位介绍信编号", max_length=60)
    clerk1_name = forms.CharField(label="经办人一姓名", max_length=50)
    clerk1_ssn = forms.CharField(label="经办人一身份证号", max_length=20)
    clerk2_name = forms.CharField(label="经办人二姓名", max_length=50)
    clerk2_ssn = forms.CharField(label="经办人二身份证号", max_length=20)

    def __init__(self, *args, notices=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if notices is not None:
            self.fields["notice"].queryset = notices  # type: ignore[attr-defined]
            self.fields["notice"].label_from_instance = lambda n: (  # type: ignore[attr-defined]
                f"{timezone.localtime(n.sent_at):%Y-%m-%d %H:%M} {n.get_channel_display()}"
            )


class VaultCountForm(forms.Form):
    location = forms.ModelChoiceField(label="库位", queryset=CardLocation.objects.none(), empty_label=None)
    period = forms.CharField(label="结账月份", max_length=7, help_text="如 202405")
    counted_by = forms.CharField(label="盘点人（保管责任人）", max_length=50)
    card_nos = forms.CharField(
        label="实盘卡号",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="逐张清点在库卡片，每行一个卡号（可用扫码枪录入）；库中无卡时留空",
    )

    def __init__(self, *args, locations=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if locations is not None:
            self.fields["location"].queryset = locations  # type: ignore[attr-defined]


class ExplainForm(forms.Form):
    explanation = forms.CharField(label="差异原因", max_length=300)


class ApplyForm(forms.Form):
    ssn = forms.CharField(label="申领人社会保障号码", max_length=20)
    bank = forms.ModelChoiceField(label="合作银行", queryset=Bank.objects.all(), empty_label=None)
    generation = forms.TypedChoiceField(
        label="卡代别", choices=Generation.choices, coerce=int, initial=Generation.THIRD
    )
    delivery = forms.ChoiceField(
        label="领卡方式", choices=DeliveryMode.choices, initial=DeliveryMode.OUTLET_PICKUP
    )
    outlet = forms.ModelChoiceField(label="领卡网点", queryset=Outlet.objects.none(), required=False)
    agent_name = forms.CharField(label="预留代办人姓名", max_length=50, required=False)
    agent_ssn = forms.CharField(label="预留代办人身份证号", max_length=20, required=False)
    agent_relation = forms.ChoiceField(
        label="代办人与申领人关系", choices=[("", "—"), *CardApplication.Relation.choices], required=False
    )
    mail_address = forms.CharField(label="邮寄地址", max_length=200, required=False)
    mail_phone = forms.CharField(label="收件电话", max_length=30, required=False)

    def __init__(self, *args, outlets=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class ProductionFileForm(forms.Form):
    fmt = forms.ChoiceField(label="文件格式", choices=[("xlsx", "Excel（xlsx）"), ("csv", "CSV")])


class ReturnFileForm(forms.Form):
    file = forms.FileField(
        label="制卡回盘文件",
        help_text="xlsx 或 csv，表头须含：卡号、社会保障号码、姓名、发卡日期、卡识别码、银行代码、银行账号",
    )

    def clean_file(self):  # type: ignore[no-untyped-def]
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("只能读入 xlsx 或 csv 文件")
        return f


class ShipmentForm(forms.Form):
    boxes = forms.CharField(label="箱号", max_length=200, required=False)
    handed_over_by = forms.CharField(label="交付人（人社部门）", max_length=50)
    received_by = forms.CharField(label="接收人（网点）", max_length=50)


class ReceiveForm(forms.Form):
    custodian = forms.CharField(label="入库保管责任人", max_length=50)

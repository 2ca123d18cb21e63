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
    DocumentDisposal,
    FinancialChannel,
    Generation,
    LivenessProof,
    SocialChannel,
    TempCard,
    WasteCause,
)
from shebao.orgs.models import Bank, Outlet, Township


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
    applicant_id_shown = forms.BooleanField(
        label="已查验申领人身份证", required=False, help_text="预留代办人代领时，须同时出示本人及申领人身份证"
    )
    household_register = forms.BooleanField(
        label="已查验户口本原件", required=False, help_text="未预留代办人、由直系亲属代领时必须查验"
    )
    phone = forms.CharField(
        label="联系电话（已核对）", max_length=30, required=False, help_text="本人领取时必须核对登记"
    )
    address = forms.CharField(
        label="住址（已核对）", max_length=200, required=False, help_text="本人领取时必须核对登记"
    )
    form_signed = forms.BooleanField(label="领取人已在《个人领取登记表》（附件5）上签字", required=False)
    activate_social = forms.BooleanField(label="现场启用人社功能", required=False, initial=True)
    activate_financial = forms.BooleanField(
        label="现场激活金融功能",
        required=False,
        initial=True,
        help_text="本人领取时由联名银行现场激活；代办人领卡须取消勾选，由持卡人本人到银行激活",
    )

    def __init__(self, *args, financial: bool = True, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if not financial:
            # only a clerk of the card's bank activates the financial function (综合窗口: the bank, separately)
            del self.fields["activate_financial"]


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
    photo = forms.FileField(label="相片", help_text="现场采集的本人近期免冠相片（jpg 或 png）")

    def __init__(self, *args, outlets=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class ErrorReapplyForm(forms.Form):
    """信息有误卡重新申领: what was wrong, the corrected data, the new card's delivery."""

    correction = forms.CharField(
        label="更正内容",
        max_length=200,
        help_text="卡面哪项信息有误、更正为什么（如：姓名“王晓明”更正为“王小明”）",
    )
    name = forms.CharField(label="更正后的姓名", max_length=50, required=False, help_text="姓名有误时填写")
    delivery = forms.ChoiceField(
        label="领卡方式", choices=[("", "同原申领"), *DeliveryMode.choices], required=False
    )
    outlet = forms.ModelChoiceField(label="领卡网点", queryset=Outlet.objects.none(), required=False)
    mail_address = forms.CharField(label="邮寄地址", max_length=200, required=False)
    mail_phone = forms.CharField(label="收件电话", max_length=30, required=False)
    photo = forms.FileField(
        label="重新采集的相片", required=False, help_text="相片有误时上传；不上传则沿用原相片"
    )

    def __init__(self, *args, outlets=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class ProductionFileForm(forms.Form):
    fmt = forms.ChoiceField(label="文件格式", choices=[("xlsx", "Excel（xlsx）"), ("csv", "CSV")])


class ApplicationPhotoForm(forms.Form):
    application = forms.IntegerField(widget=forms.HiddenInput)
    photo = forms.FileField(label="相片", help_text="补采的本人近期免冠相片（jpg 或 png）")


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


class NoticeSendForm(forms.Form):
    target = forms.CharField(widget=forms.HiddenInput)
    channel = forms.ChoiceField(label="通知方式", choices=CardNotice.Channel.choices)
    recipient = forms.CharField(label="号码/地址", max_length=200, required=False)
    note = forms.CharField(label="附言", max_length=200, required=False)


class VillagePlanForm(forms.Form):
    outlet = forms.ModelChoiceField(
        label="发卡网点（卡片所在库位）", queryset=Outlet.objects.none(), empty_label=None
    )
    township = forms.ModelChoiceField(label="乡镇", queryset=Township.objects.none(), empty_label=None)
    held_on = forms.DateField(label="发放日期", widget=forms.DateInput(attrs={"type": "date"}))
    place = forms.CharField(label="发放地点", max_length=100)
    villages = forms.CharField(label="已通知村屯", max_length=300, help_text="由村委会通知，多个村用顿号分隔")
    notified_by = forms.CharField(label="通知方式/通知人", max_length=100, initial="村委会广播及电话通知")
    station_officer = forms.CharField(label="人社站社保卡专员", max_length=50)
    bank_officer = forms.CharField(label="合作银行管理员", max_length=50)

    def __init__(self, *args, outlets=None, townships=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]
        if townships is not None:
            self.fields["township"].queryset = townships  # type: ignore[attr-defined]


class VillageIssueForm(forms.Form):
    card = forms.IntegerField(widget=forms.HiddenInput)
    receiver_name = forms.CharField(label="领卡人姓名", max_length=50)
    receiver_ssn = forms.CharField(label="领卡人身份证号", max_length=20)
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    address = forms.CharField(label="住址（已核对）", max_length=200, required=False)
    id_checked = forms.BooleanField(label="已核对身份证件", required=False)
    photo_checked = forms.BooleanField(label="已核对照片", required=False)
    address_checked = forms.BooleanField(label="已核对住址", required=False)
    form_signed = forms.BooleanField(label="已在《个人领取登记表》签字", required=False)
    activate_financial = forms.BooleanField(label="移动终端激活金融功能", required=False, initial=True)
    password_changed = forms.BooleanField(label="持卡人已现场修改密码", required=False)


class MailRequestForm(forms.Form):
    card = forms.IntegerField(widget=forms.HiddenInput)
    address = forms.CharField(label="邮寄地址", max_length=200)
    phone = forms.CharField(label="收件电话", max_length=30)


class ProofUploadForm(forms.Form):
    kind = forms.ChoiceField(label="材料类型", choices=LivenessProof.Kind.choices)
    file = forms.FileField(label="文件")


class MailRejectForm(forms.Form):
    reason = forms.CharField(label="未通过原因", max_length=200)


class MailDispatchForm(forms.Form):
    tracking_no = forms.CharField(label="EMS运单号", max_length=20)


class TempRegisterForm(forms.Form):
    ssn = forms.CharField(label="社会保障号码", max_length=20)
    temp_no = forms.CharField(label="临时卡号", max_length=20)
    issued_on = forms.DateField(label="发临时卡日期", widget=forms.DateInput(attrs={"type": "date"}))
    outlet = forms.ModelChoiceField(
        label="负责网点", queryset=Outlet.objects.none(), required=False, help_text="发放正式卡的网点"
    )

    def __init__(self, *args, outlets=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class TempSettleForm(forms.Form):
    temp_card = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label="处理结果",
        choices=[(k, v) for k, v in TempCard.State.choices if k != TempCard.State.OUTSTANDING],
    )
    receipt_no = forms.CharField(
        label="收据编号", max_length=30, required=False, help_text="丢失、损坏的须收取工本费并开具收据"
    )


class TempReconcileForm(forms.Form):
    outlet = forms.ModelChoiceField(label="网点", queryset=Outlet.objects.none(), empty_label=None)
    period = forms.CharField(label="核对月份", max_length=7, help_text="如 202405")
    checked_by = forms.CharField(label="核对人", max_length=50)

    def __init__(self, *args, outlets=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class WasteRecallForm(forms.Form):
    card_no = forms.CharField(label="卡号", max_length=20)
    cause = forms.ChoiceField(
        label="作废原因", choices=[(k, v) for k, v in WasteCause.choices if k != WasteCause.ERROR]
    )
    death_certificate_no = forms.CharField(label="死亡证明编号", max_length=40, required=False)
    handed_in_by = forms.CharField(
        label="交卡人", max_length=30, required=False, help_text="非持卡人本人交回时填写（如死者家属姓名）"
    )
    reason = forms.CharField(label="说明", max_length=200)


class WasteHandoverForm(forms.Form):
    handed_over_by = forms.CharField(label="交付人（地区信息管理部门）", max_length=50)
    received_by = forms.CharField(label="接收人（省厅信息管理中心）", max_length=50)


class DestroyForm(forms.Form):
    place = forms.CharField(label="销毁地点", max_length=100)
    method = forms.CharField(label="销毁方式", max_length=50, initial="碎卡机粉碎")
    witness_centre = forms.CharField(label="监销人（省厅信息管理中心）", max_length=50)
    witness_bank = forms.CharField(label="监销人（合作银行）", max_length=50)
    witness_factory = forms.CharField(label="监销人（卡厂）", max_length=50)


class DisposalForm(forms.Form):
    outlet = forms.ModelChoiceField(label="网点", queryset=Outlet.objects.none(), required=False)
    disposed_on = forms.DateField(label="销毁/处置日期", widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.CharField(
        label="文件名称", max_length=200, help_text="如：个人领取登记表复印件、制卡数据文件"
    )
    medium = forms.ChoiceField(label="载体", choices=DocumentDisposal.Medium.choices)
    quantity = forms.CharField(label="数量", max_length=50)
    covers = forms.CharField(label="涉及发放批次/期间", max_length=100, required=False)
    method = forms.ChoiceField(label="销毁/处置方式", choices=DocumentDisposal.Method.choices)
    disposed_by = forms.CharField(label="执行人", max_length=50)
    witness = forms.CharField(label="监督人", max_length=50)

    def __init__(self, *args, outlets=None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class ActivationFileForm(forms.Form):
    file = forms.FileField(
        label="金融功能激活报送文件",
        help_text="xlsx 或 csv，表头须含：卡号、社会保障号码、激活日期（可另含：姓名、激活网点）",
    )

    def clean_file(self):  # type: ignore[no-untyped-def]
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError("只能读入 xlsx 或 csv 文件")
        return f

from __future__ import annotations

from typing import Any

from django import forms

from shebao.campaigns.models import TargetGroup
from shebao.campaigns.selectors import GROUPINGS
from shebao.cards.models import Generation
from shebao.orgs.models import Bank, Outlet


class CampaignForm(forms.Form):
    name = forms.CharField(label="批次名称", max_length=100, initial="二代社保卡集中换发")
    bank = forms.ModelChoiceField(label="承办银行", queryset=Bank.objects.all(), required=False)
    old_generation = forms.TypedChoiceField(
        label="原卡代别", choices=Generation.choices, coerce=int, initial=Generation.FIRST
    )
    new_generation = forms.TypedChoiceField(
        label="新卡代别", choices=Generation.choices, coerce=int, initial=Generation.SECOND
    )
    transition_end = forms.DateField(
        label="过渡期截止日",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="此日之前，未更换的原卡与已启用的新卡均可正常使用",
    )
    note = forms.CharField(label="说明", max_length=300, required=False)


class PhaseForm(forms.Form):
    month = forms.CharField(label="月份", max_length=10, help_text="如 2018-05")
    group = forms.ChoiceField(label="对象", choices=TargetGroup.choices)
    outlet = forms.ModelChoiceField(label="领卡地点", queryset=Outlet.objects.none(), required=False)
    units = forms.CharField(
        label="代领单位名单",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="单位代领阶段填写：每行一个单位编号或单位全称",
    )
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, outlets: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if outlets is not None:
            self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    ssns = forms.CharField(
        label="社会保障号码",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="每行一个；单位代领阶段留空则分配名单内单位的全部退休人员，扫尾阶段留空则分配其余全部人员",
    )

    def ssn_list(self) -> list[str]:
        return [s.strip() for s in self.cleaned_data["ssns"].split() if s.strip()]


class TransferRequestForm(forms.Form):
    member = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.CharField(label="原卡医保个人账户余额（元）", max_length=20)


class RejectForm(forms.Form):
    reason = forms.CharField(label="退回原因", max_length=200)


class ProgressForm(forms.Form):
    by = forms.ChoiceField(label="统计口径", choices=list(GROUPINGS.items()), required=False)
    days = forms.IntegerField(label="待领超过（天）", min_value=0, max_value=3650, required=False, initial=30)


class OfferAcceptForm(forms.Form):
    valid_from = forms.CharField(label="启用期", max_length=10, help_text="如 2018-07")

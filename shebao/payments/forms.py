from django import forms

from shebao.core.errors import ValidationError
from shebao.core.values.period import parse_period
from shebao.orgs.models import Bank
from shebao.payments.models import (
    BenefitType,
    Certification,
    Entitlement,
    EntitlementChange,
    Resolution,
    SurvivorClaim,
)


class PayrollGenerateForm(forms.Form):
    period = forms.CharField(label="发放期（YYYYMM）", max_length=10)
    benefit_type = forms.ModelChoiceField(
        label="待遇类型", queryset=BenefitType.objects.all(), empty_label=None
    )

    def clean_period(self) -> int:
        try:
            return parse_period(self.cleaned_data["period"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.message) from None


class ReturnUploadForm(forms.Form):
    file = forms.FileField(label="回盘文件")


class WhitelistForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    spelling = forms.CharField(label="银行认可户名", max_length=50)
    note = forms.CharField(label="核实说明", max_length=200, required=False)


class ResolveForm(forms.Form):
    kind = forms.ChoiceField(label="处理方式", choices=Resolution.Kind.choices, widget=forms.RadioSelect)
    spelling = forms.CharField(label="银行认可户名", max_length=50, required=False)
    bank = forms.ModelChoiceField(label="开户银行", queryset=Bank.objects.all(), required=False)
    account_no = forms.CharField(label="银行账号", max_length=30, required=False)
    account_name = forms.CharField(label="账户户名", max_length=50, required=False)
    proof = forms.CharField(label="凭证（如本人签字确认书编号）", max_length=200, required=False)
    note = forms.CharField(label="核实说明", max_length=200, required=False)


class RepaymentForm(forms.Form):
    benefit_type = forms.ModelChoiceField(
        label="待遇类型", queryset=BenefitType.objects.all(), empty_label=None
    )


class DeathForm(forms.Form):
    ssn = forms.CharField(label="社会保障号码", max_length=18)
    death_date = forms.DateField(label="死亡日期", widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ChoiceField(
        label="信息来源",
        choices=[(s, s) for s in ("亲属报告", "单位报告", "民政数据比对", "公安数据比对", "经办登记")],
    )


class DeathCorrectForm(forms.Form):
    ssn = forms.CharField(label="社会保障号码", max_length=18)
    death_date = forms.DateField(
        label="正确的死亡日期（人员健在则留空）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(label="更正原因及依据", max_length=200)


class DeathImportForm(forms.Form):
    file = forms.FileField(label="死亡信息文件（xlsx、xls、ods或csv）")
    source = forms.ChoiceField(
        label="信息来源（文件中未填写时）",
        choices=[(s, s) for s in ("民政数据比对", "公安数据比对", "殡葬数据比对", "单位报告", "亲属报告")],
    )


class SettleForm(forms.Form):
    to_state = forms.ChoiceField(
        label="办结方式", choices=[("refunded", "家属已退回"), ("offset", "已从应发待遇中抵扣")]
    )
    reference = forms.CharField(label="凭证号", max_length=100)


class CertificationForm(forms.Form):
    ssn = forms.CharField(label="社会保障号码", max_length=18)
    channel = forms.ChoiceField(label="认证渠道", choices=Certification.Channel.choices)
    certified_on = forms.DateField(label="认证日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="说明", max_length=200, required=False)


class EntitlementImportForm(forms.Form):
    file = forms.FileField(label="待遇资格文件（xlsx/csv）")


class EntitlementChangeForm(forms.Form):
    kind = forms.ChoiceField(label="变更类型", choices=EntitlementChange.Kind.choices)
    amount = forms.CharField(label="新月待遇金额", max_length=20, required=False)
    period = forms.CharField(label="生效期（YYYYMM）", max_length=10, required=False)
    reason = forms.ChoiceField(
        label="原因代码",
        choices=[("", "（调整金额、恢复发放不填）"), *Entitlement.Reason.choices],
        required=False,
    )
    note = forms.CharField(label="说明", max_length=200, required=False)


class SurvivorClaimForm(forms.Form):
    base_monthly_income = forms.CharField(label="上年度全省城镇居民月人均可支配收入（元）", max_length=20)
    contribution_months = forms.IntegerField(label="累计缴费月数（含视同缴费）", min_value=0, max_value=1200)
    pension_months = forms.IntegerField(
        label="已领取养老金月数（在职死亡填0）", min_value=0, max_value=1200, initial=0
    )
    recipient_ssn = forms.CharField(label="领取人社会保障号码", max_length=18)
    recipient_name = forms.CharField(label="领取人姓名", max_length=50)
    relation = forms.ChoiceField(label="与死亡人员关系", choices=SurvivorClaim.Relation.choices)
    bank = forms.ModelChoiceField(
        label="开户银行（领取人尚无发放账户时填写）", queryset=Bank.objects.all(), required=False
    )
    account_no = forms.CharField(label="银行账号（领取人尚无发放账户时填写）", max_length=30, required=False)
    offset_overpayments = forms.BooleanField(label="从中抵扣死亡人员的多发待遇", required=False)


class CertificationImportForm(forms.Form):
    file = forms.FileField(label="比对数据文件（xlsx或csv）")
    source = forms.CharField(label="数据来源（如：医保结算、公共交通）", max_length=50)

"""Audit action constants of the switching app."""

from shebao.audit.actions import LABELS

CARD_EXTRACT_IMPORT = "switching.card_extract_import"
COMPARISON_CREATE = "switching.comparison_create"
COMPARISON_RUN = "switching.comparison_run"
ROLLOUT_RULE_SAVE = "switching.rollout_rule_save"
PREFERENCE_RECORD = "switching.preference_record"
FORM_GENERATE = "switching.form_generate"
FORM_DOWNLOAD = "switching.form_download"
FORM_RETURN = "switching.form_return"
FORM_RETURN_REFUSED = "switching.form_return_refused"
FORM_CHECK = "switching.form_check"
FORM_APPROVE = "switching.form_approve"
FORM_REJECT = "switching.form_reject"
CHANGE_SUBMIT = "switching.change_submit"
CHANGE_PREPARE = "switching.change_prepare"
CHANGE_APPROVE = "switching.change_approve"
CHANGE_REJECT = "switching.change_reject"
FAILURE_REPORT = "switching.failure_report"
FAILURE_RESUBMIT = "switching.failure_resubmit"
INTAKE_RECORD = "switching.intake_record"
INTAKE_SUBMIT = "switching.intake_submit"
NOTICE_PUBLISH = "switching.notice_publish"
NOTICE_WITHDRAW = "switching.notice_withdraw"

LABELS.update(
    {
        CARD_EXTRACT_IMPORT: "导入卡系统数据",
        COMPARISON_CREATE: "新建比对",
        COMPARISON_RUN: "执行比对",
        ROLLOUT_RULE_SAVE: "保存社保卡发放推进规则",
        PREFERENCE_RECORD: "登记本人切换申请",
        FORM_GENERATE: "生成核实反馈表",
        FORM_DOWNLOAD: "下载核实反馈表",
        FORM_RETURN: "报送核实反馈表",
        FORM_RETURN_REFUSED: "拒收其他单位的核实反馈表",
        FORM_CHECK: "中心经办员审核核实反馈表",
        FORM_APPROVE: "核实反馈表复核通过",
        FORM_REJECT: "退回核实反馈表",
        CHANGE_SUBMIT: "单位（乡镇）报送发放账户变更",
        CHANGE_PREPARE: "提交发放账户变更",
        CHANGE_APPROVE: "发放账户变更复核通过",
        CHANGE_REJECT: "驳回发放账户变更",
        FAILURE_REPORT: "登记切换后发放失败",
        FAILURE_RESUBMIT: "发放失败人员重新报送账户",
        INTAKE_RECORD: "乡镇核实登记",
        INTAKE_SUBMIT: "乡镇月度报送",
        NOTICE_PUBLISH: "发布公告",
        NOTICE_WITHDRAW: "撤回公告",
    }
)

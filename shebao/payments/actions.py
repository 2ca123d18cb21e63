"""Audit action constants of the payments app."""

from shebao.audit.actions import LABELS

ENTITLEMENT_CREATE = "entitlement.create"
ENTITLEMENT_AMOUNT = "entitlement.amount"
ENTITLEMENT_STATE = "entitlement.state"
ENTITLEMENT_IMPORT = "entitlement.import"
ENTITLEMENT_CHANGE_REQUEST = "entitlement.change_request"
ENTITLEMENT_CHANGE_DECIDE = "entitlement.change_decide"
PAYROLL_GENERATE = "payroll.generate"
PAYROLL_APPROVE = "payroll.approve"
PAYROLL_PREFLIGHT = "payroll.preflight"
PAYROLL_FILE = "payroll.file"
PAYROLL_RECONCILED = "payroll.reconciled"
BANK_FILE_DOWNLOAD = "bank_file.download"
RETURN_IMPORT = "return_file.import"
WHITELIST_ADD = "name_whitelist.add"
LINE_RESOLVE = "payment_line.resolve"
REPAYMENT_GENERATE = "payroll.repayment_generate"
OVERPAYMENT_OPEN = "overpayment.open"
CERTIFICATION_RECORD = "certification.record"
OVERPAYMENT_SETTLE = "overpayment.settle"
SURVIVOR_CLAIM = "survivor_claim.create"
CERTIFICATION_IMPORT = "certification.import"
DEATH_CORRECT = "person.death_correct"
WHITELIST_CONFIRM = "name_whitelist.confirm"
SURVIVOR_CLAIM_DECIDE = "survivor_claim.decide"
ENTITLEMENT_IMPORT_DECIDE = "entitlement.import_decide"
OVERPAYMENT_CANCEL = "overpayment.cancel"
LINE_AWAIT_CARD = "payment_line.await_card"

LABELS.update(
    {
        ENTITLEMENT_CREATE: "新增待遇资格",
        ENTITLEMENT_AMOUNT: "调整待遇金额",
        ENTITLEMENT_STATE: "变更待遇状态",
        ENTITLEMENT_IMPORT: "导入待遇资格",
        ENTITLEMENT_CHANGE_REQUEST: "申请变更待遇",
        ENTITLEMENT_CHANGE_DECIDE: "复核待遇变更",
        PAYROLL_GENERATE: "生成待遇发放表",
        PAYROLL_APPROVE: "复核待遇发放表",
        PAYROLL_PREFLIGHT: "报盘前检查",
        PAYROLL_FILE: "生成代发文件",
        PAYROLL_RECONCILED: "发放对账完成",
        BANK_FILE_DOWNLOAD: "下载代发文件",
        RETURN_IMPORT: "导入回盘文件",
        WHITELIST_ADD: "登记户名白名单",
        LINE_RESOLVE: "处理发放失败",
        REPAYMENT_GENERATE: "生成二次支付批次",
        OVERPAYMENT_OPEN: "发现多发待遇",
        CERTIFICATION_RECORD: "待遇资格认证",
        OVERPAYMENT_SETTLE: "多发待遇办结",
        SURVIVOR_CLAIM: "核定丧葬补助金和抚恤金",
        CERTIFICATION_IMPORT: "导入数据比对认证",
        DEATH_CORRECT: "更正死亡登记",
        WHITELIST_CONFIRM: "确认户名白名单",
        SURVIVOR_CLAIM_DECIDE: "复核丧葬补助金和抚恤金",
        ENTITLEMENT_IMPORT_DECIDE: "复核待遇资格导入",
        OVERPAYMENT_CANCEL: "撤销多发待遇",
        LINE_AWAIT_CARD: "发放失败：等待新卡",
    }
)

"""Audit action constants of the cards app; their Chinese labels join the audit log's table on import."""

from shebao.audit.actions import LABELS

CARD_APPLY = "card.apply"
CARD_APPLICATION_RESUBMIT = "card.application_resubmit"
CARD_PRODUCTION_FILE = "card.production_file"
CARD_PRODUCTION_RETURN = "card.production_return"
CARD_PRODUCTION_DOWNLOAD = "card.production_download"
CARD_APPLICATION_PHOTO = "card.application_photo"
CARD_SHIP = "card.ship"
CARD_RECEIVE = "card.receive"
CARD_NOTICE = "card.notice"
CARD_ISSUE = "card.issue"
CARD_ISSUE_COLLECTIVE = "card.issue_collective"
CARD_ACTIVATE_SOCIAL = "card.activate_social"
CARD_ACTIVATE_FINANCIAL = "card.activate_financial"
CARD_LOSS_TEMPORARY = "card.loss_temporary"
CARD_LOSS_FORMAL = "card.loss_formal"
CARD_UNLOCK = "card.unlock"
CARD_REPLACE = "card.replace"

LABELS.update(
    {
        CARD_APPLY: "受理社保卡申领",
        CARD_APPLICATION_RESUBMIT: "制卡失败申领重新提交",
        CARD_PRODUCTION_FILE: "生成制卡文件",
        CARD_PRODUCTION_RETURN: "读入制卡回盘文件",
        CARD_PRODUCTION_DOWNLOAD: "下载制卡文件及相片",
        CARD_APPLICATION_PHOTO: "补采申领相片",
        CARD_SHIP: "社保卡配送交接",
        CARD_RECEIVE: "网点签收社保卡入库",
        CARD_NOTICE: "登记领卡通知",
        CARD_ISSUE: "发放社保卡",
        CARD_ISSUE_COLLECTIVE: "单位集中领卡",
        CARD_ACTIVATE_SOCIAL: "启用人社功能",
        CARD_ACTIVATE_FINANCIAL: "激活金融功能",
        CARD_LOSS_TEMPORARY: "社保卡临时挂失",
        CARD_LOSS_FORMAL: "社保卡正式挂失",
        CARD_UNLOCK: "社保卡解挂",
        CARD_REPLACE: "社保卡补卡",
    }
)

VAULT_COUNT = "card.vault_count"
VAULT_EXPLAIN = "card.vault_explain"
VAULT_CLOSE = "card.vault_close"

LABELS.update(
    {
        VAULT_COUNT: "社保卡库存盘点",
        VAULT_EXPLAIN: "说明盘点差异",
        VAULT_CLOSE: "社保卡库存月结",
    }
)

CARD_RECALL = "card.recall"
LABELS[CARD_RECALL] = "回收社保卡"

CARD_HANDOVER_SETTLE = "card.handover_settle"
LABELS[CARD_HANDOVER_SETTLE] = "单位交回发卡名单及未发卡"

CARD_NOTICE_SEND = "card.notice_send"
CARD_ISSUE_VILLAGE = "card.issue_village"
VILLAGE_SESSION_PLAN = "card.village_plan"
VILLAGE_SESSION_CLOSE = "card.village_close"
MAIL_REQUEST = "card.mail_request"
MAIL_PROOF_UPLOAD = "card.mail_proof"
MAIL_REVIEW = "card.mail_review"
MAIL_DISPATCH = "card.mail_dispatch"
MAIL_CANCEL = "card.mail_cancel"
TEMP_CARD_REGISTER = "card.temp_register"
TEMP_CARD_SETTLE = "card.temp_settle"
TEMP_CARD_RECONCILE = "card.temp_reconcile"
CARD_WASTE_HANDOVER = "card.waste_handover"
CARD_DESTROY = "card.destroy"
DOCUMENT_DISPOSAL = "card.document_disposal"

LABELS.update(
    {
        CARD_NOTICE_SEND: "发送领卡通知",
        CARD_ISSUE_VILLAGE: "进村发放社保卡",
        VILLAGE_SESSION_PLAN: "计划进村发放",
        VILLAGE_SESSION_CLOSE: "结束进村发放",
        MAIL_REQUEST: "申请邮寄社保卡",
        MAIL_PROOF_UPLOAD: "上传生存状态认证材料",
        MAIL_REVIEW: "审核邮寄申请",
        MAIL_DISPATCH: "EMS邮寄社保卡",
        MAIL_CANCEL: "撤销邮寄申请",
        TEMP_CARD_REGISTER: "登记临时卡",
        TEMP_CARD_SETTLE: "临时卡回收/收取工本费",
        TEMP_CARD_RECONCILE: "临时卡及工本费核对",
        CARD_WASTE_HANDOVER: "废卡交付省厅",
        CARD_DESTROY: "废卡销毁",
        DOCUMENT_DISPOSAL: "文件销毁/处置登记",
    }
)

CARD_MEMBER_HANDOUT = "card.member_handout"
CARD_HANDOVER_ACTIVATE = "card.handover_activate"
LABELS.update(
    {
        CARD_MEMBER_HANDOUT: "单位登记发卡到人",
        CARD_HANDOVER_ACTIVATE: "集中领卡按发卡名单统一启用（人社及金融功能）",
    }
)

CARD_CANCEL = "card.cancel"
CARD_NOTICE_RESEND = "card.notice_resend"
LABELS.update(
    {
        CARD_CANCEL: "社保卡注销",
        CARD_NOTICE_RESEND: "重新发送领卡通知",
    }
)

CARD_ERROR_HANDOVER = "card.error_handover"
LABELS[CARD_ERROR_HANDOVER] = "信息有误卡移交人社部门"

CARD_RECEIVE_SHORT = "card.receive_short"
LABELS[CARD_RECEIVE_SHORT] = "签收社保卡登记短缺"
CARD_LOST_IN_TRANSIT = "card.lost_in_transit"
LABELS[CARD_LOST_IN_TRANSIT] = "配送短缺卡认定遗失并重新制卡"

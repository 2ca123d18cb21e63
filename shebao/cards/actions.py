"""Audit action constants of the cards app; their Chinese labels join the audit log's table on import."""

from shebao.audit.actions import LABELS

CARD_APPLY = "card.apply"
CARD_APPLICATION_RESUBMIT = "card.application_resubmit"
CARD_PRODUCTION_FILE = "card.production_file"
CARD_PRODUCTION_RETURN = "card.production_return"
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

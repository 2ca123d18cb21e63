"""Audit action constants of the campaigns app; their Chinese labels join the audit log's table on import."""

from shebao.audit.actions import LABELS

CARD_ACCOUNT_OFFER_ACCEPT = "campaign.card_account_offer_accept"
CARD_ACCOUNT_OFFER_REJECT = "campaign.card_account_offer_reject"
CAMPAIGN_CREATE = "campaign.create"
CAMPAIGN_CLOSE = "campaign.close"
PHASE_CREATE = "campaign.phase_create"
MEMBERS_ASSIGN = "campaign.members_assign"
MEDICAL_TRANSFER_OPEN = "campaign.medical_transfer_open"
MEDICAL_TRANSFER_FROM_SYSTEM = "campaign.medical_transfer_from_system"
MEDICAL_TRANSFER_REFETCH = "campaign.medical_transfer_refetch"
MEDICAL_TRANSFER_REQUEST = "campaign.medical_transfer_request"
MEDICAL_TRANSFER_APPROVE = "campaign.medical_transfer_approve"
MEDICAL_TRANSFER_REJECT = "campaign.medical_transfer_reject"
OLD_CARD_MEDICAL_STOP = "campaign.old_card_medical_stop"

LABELS.update(
    {
        CARD_ACCOUNT_OFFER_ACCEPT: "社保卡账户启用为发放账户",
        CARD_ACCOUNT_OFFER_REJECT: "社保卡账户不予采用",
        CAMPAIGN_CREATE: "新建换卡批次",
        CAMPAIGN_CLOSE: "换卡过渡期结束",
        PHASE_CREATE: "新建换卡阶段",
        MEMBERS_ASSIGN: "换卡人员分配到阶段",
        MEDICAL_TRANSFER_OPEN: "新卡启用，医保个人账户余额待转移",
        MEDICAL_TRANSFER_FROM_SYSTEM: "医保系统转移医保个人账户余额",
        MEDICAL_TRANSFER_REFETCH: "再次向医保系统获取医保个人账户余额",
        MEDICAL_TRANSFER_REQUEST: "登记医保个人账户余额转移",
        MEDICAL_TRANSFER_APPROVE: "复核医保个人账户余额转移",
        MEDICAL_TRANSFER_REJECT: "退回医保个人账户余额转移",
        OLD_CARD_MEDICAL_STOP: "原卡医保功能停用",
    }
)

"""Audit action constants and their labels. Apps add their own constants here."""

PERSON_CREATE = "person.create"
PERSON_UPDATE = "person.update"
PERSON_IMPORT = "person.import"
PERSON_DEATH = "person.death"
ACCOUNT_ADD = "account.add"
USER_LOGIN = "user.login"
USER_LOGIN_FAILED = "user.login_failed"
USER_LOCKED = "user.locked"
TOKEN_CREATE = "token.create"
TOKEN_REVOKE = "token.revoke"
JOB_START = "job.start"
SCOPE_DENIED = "scope.denied"
EXPORT = "export"

LABELS: dict[str, str] = {
    PERSON_CREATE: "新增人员",
    PERSON_UPDATE: "修改人员信息",
    PERSON_IMPORT: "导入人员",
    PERSON_DEATH: "登记死亡",
    ACCOUNT_ADD: "登记发放账户",
    USER_LOGIN: "登录",
    USER_LOGIN_FAILED: "登录失败",
    USER_LOCKED: "账号锁定",
    TOKEN_CREATE: "创建API令牌",
    TOKEN_REVOKE: "吊销API令牌",
    JOB_START: "提交后台任务",
    SCOPE_DENIED: "越权访问被拒绝",
    EXPORT: "导出数据",
}


def label(action: str) -> str:
    return LABELS.get(action, action)

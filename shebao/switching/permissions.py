"""Actions of the switching app and the roles allowed to do them (data scope lives in selectors)."""

from shebao.accounts.roles import Role

ACTIONS = {
    # Comparison results are centre work: they list everybody's card state side by side.
    "switching.comparison_view": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR},
    "switching.comparison_run": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "switching.rules_edit": {Role.CENTRE_SUPERVISOR},
    "switching.rules_view": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR},
    "switching.preference_record": {Role.CENTRE_CLERK},
    "switching.form_list": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR},
    "switching.form_generate": {Role.CENTRE_CLERK},
    "switching.form_own": {Role.UNIT_CLERK, Role.TOWNSHIP_CLERK},
    "switching.form_view": {
        Role.CENTRE_CLERK,
        Role.CENTRE_SUPERVISOR,
        Role.AUDITOR,
        Role.UNIT_CLERK,
        Role.TOWNSHIP_CLERK,
    },
    "switching.form_return": {Role.UNIT_CLERK, Role.TOWNSHIP_CLERK},
    "switching.intake": {Role.TOWNSHIP_CLERK},
    "switching.notice_publish": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "switching.notice_view": {
        Role.CENTRE_CLERK,
        Role.CENTRE_SUPERVISOR,
        Role.AUDITOR,
        Role.UNIT_CLERK,
        Role.TOWNSHIP_CLERK,
    },
    "switching.change_prepare": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    # The centre clerk's step between a unit's (township's) answers and the supervisor: review, prepare.
    "switching.change_check": {Role.CENTRE_CLERK},
    "switching.change_approve": {Role.CENTRE_SUPERVISOR},
    "switching.failure_report": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "switching.change_view": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR},
}

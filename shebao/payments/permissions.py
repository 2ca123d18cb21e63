"""Who may do what with entitlements, payrolls and bank files (data scope lives in selectors)."""

from shebao.accounts.roles import Role, register_actions

CENTRE_READERS: set[str] = {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR, Role.AUDITOR}

ACTIONS: dict[str, set[str]] = {
    "payroll.view": CENTRE_READERS,
    "payroll.prepare": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "payroll.approve": {Role.CENTRE_SUPERVISOR},
    "payroll.file": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "payroll.download": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "payroll.return_import": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "payment.failures": CENTRE_READERS | {Role.UNIT_CLERK, Role.TOWNSHIP_CLERK},
    "entitlement.view": CENTRE_READERS,
    "entitlement.edit": {Role.CENTRE_CLERK},
    "entitlement.approve": {Role.CENTRE_SUPERVISOR},
    "whitelist.edit": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "whitelist.confirm": {Role.CENTRE_SUPERVISOR},
    "payment.resolve": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "death.record": {Role.CENTRE_CLERK},
    "death.correct": {Role.CENTRE_SUPERVISOR},
    "survivor.view": CENTRE_READERS,
    "survivor.claim": {Role.CENTRE_CLERK},
    "survivor.approve": {Role.CENTRE_SUPERVISOR},
    "payment.statement": set(Role.values),
    "payment.my_statement": {Role.CARDHOLDER},
    "certification.view": CENTRE_READERS | {Role.UNIT_CLERK, Role.TOWNSHIP_CLERK},
    "certification.record": {Role.CENTRE_CLERK, Role.TOWNSHIP_CLERK},
    "certification.import": {Role.CENTRE_CLERK},
    "certification.sweep": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
    "overpayment.view": CENTRE_READERS,
    "overpayment.settle": {Role.CENTRE_CLERK, Role.CENTRE_SUPERVISOR},
}


def register() -> None:
    register_actions({name: frozenset(roles) for name, roles in ACTIONS.items()})

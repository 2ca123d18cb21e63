from shebao.web.nav import NavItem, NavSection

SECTIONS = [
    NavSection(
        "待遇支付",
        (
            NavItem("待遇资格", "payments:entitlements", "entitlement.view"),
            NavItem("待遇发放表", "payments:payroll_list", "payroll.view"),
            NavItem("支付失败与二次支付", "payments:failures", "payment.failures"),
            NavItem("资格认证", "payments:certification", "certification.view"),
            NavItem("死亡登记", "payments:death_record", "death.record"),
            NavItem("更正死亡登记", "payments:death_correct", "death.correct"),
            NavItem("多发追回", "payments:overpayments", "overpayment.view"),
            NavItem("我的待遇发放", "payments:my_statement", "payment.my_statement"),
        ),
    )
]

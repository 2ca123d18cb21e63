from shebao.web.nav import NavItem, NavSection

SECTIONS = [
    NavSection(
        "账户切换",
        (
            NavItem("比对", "switching:runs", "switching.comparison_view"),
            NavItem("核实反馈表", "switching:forms", "switching.form_list"),
            NavItem("推进进度", "switching:progress", "switching.form_list"),
            NavItem("本单位核实反馈表", "switching:my_forms", "switching.form_own"),
            NavItem("乡镇核实登记", "switching:intake", "switching.intake"),
            NavItem("账户变更复核", "switching:changes", "switching.change_view"),
            NavItem("换卡失败反馈", "switching:failures", "switching.change_view"),
            NavItem("新增待遇人员", "switching:new_beneficiaries", "switching.change_view"),
            NavItem("推进规则", "switching:rules", "switching.rules_view"),
            NavItem("本人申请", "switching:preferences", "switching.rules_view"),
            NavItem("通知公告", "switching:notices", "switching.notice_view"),
        ),
    )
]

from shebao.web.nav import NavItem, NavSection

SECTIONS = [
    NavSection(
        "社保卡管理",
        (
            NavItem("社保卡查询", "cards:search", "card.search"),
            NavItem("申领受理", "cards:apply", "card.apply"),
            NavItem("制卡管理", "cards:production", "card.production"),
            NavItem("配送交接", "cards:shipments", "card.stock"),
            NavItem("网点库存", "cards:stock", "card.stock"),
            NavItem("单位集中领卡", "cards:collective", "card.issue"),
            NavItem("月清月结", "cards:closings", "card.stock"),
        ),
    ),
]

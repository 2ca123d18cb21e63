from shebao.web.nav import NavItem, NavSection

SECTIONS: list[NavSection] = [
    NavSection(
        "换卡与进度",
        (
            NavItem("发放进度", "campaigns:progress", "card.progress"),
            NavItem("换代换卡批次", "campaigns:list", "campaign.view"),
            NavItem("医保余额转移复核", "campaigns:transfers", "campaign.view"),
            NavItem("社保卡账户待启用", "campaigns:offers", "switching.change_prepare"),
        ),
    ),
]

from shebao.web.nav import NavItem, NavSection

SECTIONS = [
    NavSection(
        "社保卡管理",
        (
            NavItem("社保卡查询", "cards:search", "card.search"),
            NavItem("申领受理", "cards:apply", "card.apply"),
            NavItem("信息有误卡重新申领", "cards:error_reapply", "card.apply"),
            NavItem("制卡管理", "cards:production", "card.production"),
            NavItem("配送交接", "cards:shipments", "card.stock"),
            NavItem("网点库存", "cards:stock", "card.stock"),
            NavItem("领卡通知", "cards:notices", "card.notice"),
            NavItem("金融激活报送", "cards:activations", "card.activate_financial"),
            NavItem("单位集中领卡", "cards:collective", "card.issue"),
            NavItem("本单位集中领卡", "cards:unit_handovers", "card.unit_handout"),
            NavItem("进村发放", "cards:village", "card.village"),
            NavItem("邮寄领卡", "cards:mail_mine", "card.mail_request"),
            NavItem("邮寄审核", "cards:mail_requests", "card.mail_review"),
            NavItem("临时卡", "cards:temp_cards", "card.temp_report"),
            NavItem("月清月结", "cards:closings", "card.stock"),
            NavItem("废卡销毁", "cards:destructions", "card.destroy_view"),
            NavItem("文件销毁记录", "cards:disposals", "card.document_disposal_view"),
        ),
    ),
]

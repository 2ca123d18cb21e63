"""Fixed tables of the demo county: regions, townships, banks, outlets and employer-unit names.

寿县 (Shou County, 安徽省六安市) is the county the requirement documents start from. Township names are the
county's real towns and townships; bank names are the partner banks a county centre typically works with.
Employer names mix the real unit list of seed 003 (文登, moved to 寿县 by `localise_unit_name`) with
generated names and county institutions. Nothing here is a real person or a real account.
"""

from __future__ import annotations

from typing import NamedTuple


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# --- regions ------------------------------------------------------------------------------------------

#: code -> (province, city, county) names for the counties the demo knows by name.
KNOWN_COUNTIES: dict[str, tuple[str, str, str]] = {
    "341521": ("安徽省", "六安市", "寿县"),
    "342422": ("安徽省", "六安地区", "寿县"),
    "340422": ("安徽省", "淮南市", "寿县"),
}

CENTRE_PHONE = "0564-4022301"


# --- townships ----------------------------------------------------------------------------------------


class TownshipSpec(NamedTuple):
    name: str
    kind: str  # orgs.Township.Kind value
    weight: int  # share of the county's population, relative


# 寿春镇 is the county seat; 陶店回族乡 is where the county's Hui population lives.
TOWNSHIPS: tuple[TownshipSpec, ...] = (
    TownshipSpec("寿春镇", "town", 14),
    TownshipSpec("双桥镇", "town", 4),
    TownshipSpec("涧沟镇", "town", 3),
    TownshipSpec("丰庄镇", "town", 3),
    TownshipSpec("正阳关镇", "town", 4),
    TownshipSpec("迎河镇", "town", 4),
    TownshipSpec("板桥镇", "town", 4),
    TownshipSpec("安丰塘镇", "town", 4),
    TownshipSpec("众兴镇", "town", 4),
    TownshipSpec("茶庵镇", "town", 3),
    TownshipSpec("三觉镇", "town", 3),
    TownshipSpec("炎刘镇", "town", 4),
    TownshipSpec("刘岗镇", "town", 3),
    TownshipSpec("双庙集镇", "town", 3),
    TownshipSpec("小甸镇", "town", 4),
    TownshipSpec("杨庙镇", "town", 3),
    TownshipSpec("大顺镇", "town", 3),
    TownshipSpec("瓦埠镇", "town", 4),
    TownshipSpec("堰口镇", "town", 4),
    TownshipSpec("保义镇", "town", 4),
    TownshipSpec("隐贤镇", "town", 4),
    TownshipSpec("安丰镇", "town", 4),
    TownshipSpec("窑口镇", "town", 3),
    TownshipSpec("陶店回族乡", "township", 2),
    TownshipSpec("张李乡", "township", 2),
    TownshipSpec("八公山乡", "township", 2),
)

HUI_TOWNSHIP = "陶店回族乡"
SEAT_TOWNSHIP = "寿春镇"

#: Village / neighbourhood name parts for addresses.
VILLAGE_PARTS = _words(
    "东湖 西湖 南塘 北圩 新庄 老庄 河口 大郢 小郢 王圩 李岗 张集 刘桥 陈庙 杨湾 周岗 吴店 孙圩 "
    "枸杞 菱角 荷塘 柳树 枣林 桃园 杏花 石桥 双井 三里 五里 十里 黄庄 白塔 青莲 凤凰 瓦房 草庙"
)
SEAT_STREETS = (
    "北大街",
    "南大街",
    "东大街",
    "西大街",
    "寿春路",
    "宾阳大道",
    "留犊祠路",
    "楚都大道",
    "迎宾大道",
    "八公山路",
)

#: Addresses of persons who live outside the region (they draw a pension here but live elsewhere).
OUTSIDE_PLACES = (
    "安徽省合肥市蜀山区",
    "安徽省合肥市包河区",
    "安徽省淮南市田家庵区",
    "安徽省六安市金安区",
    "江苏省南京市鼓楼区",
    "江苏省苏州市吴中区",
    "上海市浦东新区",
    "上海市闵行区",
    "浙江省杭州市拱墅区",
    "浙江省宁波市鄞州区",
    "广东省深圳市龙岗区",
    "北京市朝阳区",
)


# --- banks and outlets --------------------------------------------------------------------------------


class BankSpec(NamedTuple):
    code: str
    name: str
    short_name: str
    weight: int  # share of the county's pension accounts, relative
    card_prefix: str  # 社保卡 financial account numbers: synthetic, plausible-looking prefixes
    passbook_prefix: str  # old passbook account numbers: synthetic
    outlets: tuple[tuple[str, str], ...]  # (outlet name, township name)


BANKS: tuple[BankSpec, ...] = (
    BankSpec(
        "102",
        "中国工商银行寿县支行",
        "工商银行",
        5,
        "621226",
        "1314",
        (
            ("中国工商银行寿县支行营业部", "寿春镇"),
            ("中国工商银行寿县寿春路支行", "寿春镇"),
            ("中国工商银行寿县正阳关分理处", "正阳关镇"),
        ),
    ),
    BankSpec(
        "103",
        "中国农业银行寿县支行",
        "农业银行",
        6,
        "622848",
        "1248",
        (
            ("中国农业银行寿县支行营业部", "寿春镇"),
            ("中国农业银行寿县双桥分理处", "双桥镇"),
            ("中国农业银行寿县众兴分理处", "众兴镇"),
            ("中国农业银行寿县安丰分理处", "安丰镇"),
        ),
    ),
    BankSpec(
        "105",
        "中国建设银行寿县支行",
        "建设银行",
        3,
        "621700",
        "3405",
        (
            ("中国建设银行寿县支行营业部", "寿春镇"),
            ("中国建设银行寿县城南支行", "寿春镇"),
        ),
    ),
    BankSpec(
        "402",
        "寿县农村商业银行",
        "寿县农商行",
        7,
        "622688",
        "2000",
        (
            ("寿县农村商业银行营业部", "寿春镇"),
            ("寿县农村商业银行堰口支行", "堰口镇"),
            ("寿县农村商业银行隐贤支行", "隐贤镇"),
            ("寿县农村商业银行陶店支行", "陶店回族乡"),
        ),
    ),
    BankSpec(
        "403",
        "中国邮政储蓄银行寿县支行",
        "邮储银行",
        4,
        "621799",
        "6001",
        (
            ("中国邮政储蓄银行寿县支行营业部", "寿春镇"),
            ("中国邮政储蓄银行寿县炎刘营业所", "炎刘镇"),
            ("中国邮政储蓄银行寿县瓦埠营业所", "瓦埠镇"),
        ),
    ),
)

SERVICE_WINDOWS: tuple[tuple[str, str], ...] = (
    ("寿县社会养老保险中心综合服务窗口", "寿春镇"),
    ("寿县政务服务中心人社综合窗口", "寿春镇"),
)

GRASSROOTS_STATION_SUFFIX = "人力资源和社会保障服务站"


# --- employer units -----------------------------------------------------------------------------------

#: The unit list of seed 003 (文登区集中领取发放二代社保卡的企业名单), verbatim: units with many retirees.
SEED_003_UNIT_NAMES: tuple[str, ...] = (
    "高岛制盐有限公司",
    "国网山东省电力公司威海市文登区供电公司",
    "威力工具集团有限公司",
    "天润曲轴股份有限公司",
    "森鹿制革有限公司",
    "艺达有限公司",
    "文登农村商业银行股份有限公司",
    "文登市自行车配件厂",
    "正信织造有限公司",
    "永进皮鞋有限公司",
    "文盛染织有限公司",
    "中航黑豹股份有限公司",
    "颐阳酒业有限公司",
    "芸祥绣品公司",
    "大方水泥有限公司",
    "润通橡胶有限公司",
    "山泰食品股份有限公司",
    "奥文电机有限公司",
    "文登市印刷厂有限公司",
    "云龙绣品有限公司",
    "海通造船有限公司",
    "铃兰味精有限公司",
    "鼎泰机械有限公司",
    "校办企业办公室",
    "文胜玻璃有限公司",
    "凯程机械有限公司",
    "联通公司文登区分公司",
    "润通水产养殖有限公司",
    "正兴铝业有限公司",
    "威海卫酒业集团文登有限公司",
    "海运有限公司",
    "双力板簧有限公司",
    "金王鞋业有限公司",
    "华亿工程有限公司",
    "中海川物流有限公司",
    "农行文登支行",
    "鲁润百货有限公司",
    "山东汇润实业集团有限公司",
    "中国邮政集团公司威海市文登区分公司",
    "威海昆崙酒店有限公司",
    "文登市立医院",
    "威海泰富西玛电机有限公司",
    "万得集团有限公司",
    "水泥制品有限公司",
    "山东雨泽银丰动物药业有限公司",
    "威力风机有限公司",
    "君利得食品有限公司",
    "新华书店集团有限公司文登分公司",
    "威海天香酿造有限公司",
    "方润建筑工程有限公司",
    "食品联合加工厂",
    "泽头供销社",
    "文登市电影发行放映公司",
    "三峰轮胎有限公司",
    "文城建设集团有限公司",
    "山东长江汇泉集团有限公司",
    "北汽黑豹(威海)汽车有限公司",
    "贯鸣建筑工程有限公司",
    "昆崙电缆有限公司",
    "磐龙建筑工程有限公司",
    "西郊热电有限公司",
    "晋安建筑工程有限公司",
    "家家悦集团股份有限公司文登果品店",
    "华港建设工程有限公司",
    "大成驾驶培训有限公司",
    "威海德业机电制造有限公司",
    "金都大厦有限公司",
    "中国工商银行股份有限公司文登支行",
    "文登区各镇办供销社",
    "鸿通管材股份有限公司",
    "文登市地基工程公司",
    "张家埠港务有限公司",
    "金泰汽车制修厂",
    "宏利客运有限公司",
    "文登区滩涂养殖开发公司",
    "民琳百货经销处",
    "涌泉饲料公司",
    "麦岛盐业有限公司",
    "威海时装有限公司",
    "明池玻璃股份有限公司",
    "庆顺建筑工程有限公司",
    "天恒人力资源有限公司",
    "烟草有限公司文登分公司",
    "圣光房地产开发有限公司",
    "佳能燃料有限公司",
    "西郊园艺场",
    "凤翔畜禽养殖有限责任公司",
    "昌阳综合加工厂",
    "农业生产资料总公司",
    "云龙复合纺织材料有限公司",
    "文登区供销合作社联合社",
    "蔬菜副食品有限公司",
    "凤凰婷装饰布有限公司",
    "盛源电力变压器有限公司",
    "水产综合育苗试验基地",
    "中国石化销售有限公司山东威海文登石油分公司",
    "威海凯德餐饮有限公司",
    "威海龙福家纺有限公司",
    "威海华洋药业有限公司",
    "新午星机械有限公司",
    "中林网架钢构工程有限公司",
    "宏安集团有限公司",
    "机电设备厂有限公司",
    "口子供销社",
    "威海文隆电池有限公司",
    "山东中邮物流有限责任公司文登分公司",
    "文登市日用杂品公司",
    "顺元包装材料有限公司",
    "翔宇爆破有限公司",
    "利丰机械有限公司",
    "海利水产品有限公司",
    "文登市再生资源股份有限公司",
    "文登大润发商业有限公司",
    "旭威模具有限公司",
    "山东德正乳业股份有限公司",
    "双力板簧有限公司废旧金属收购门市部",
    "文城建设集团第五分公司(山成桥梁)",
    "文登市工程钻机厂",
    "奥文机电设备有限公司",
    "新元通信服务有限公司",
    "西楼集团有限公司",
    "城建建筑工程有限公司",
    "威海天沐温泉度假有限公司",
    "文登区财源五金厂",
)

# Longest first: "山东威海文登" must win over "山东" and "文登".
_PLACE_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    ("山东威海文登", "安徽六安{county}"),
    ("威海市文登区", "{county}"),
    ("文登市立医院", "{county}城关医院"),
    ("威海卫", "寿州"),
    ("山东省", "安徽省"),
    ("文登市", "{county}"),
    ("文登区", "{county}"),
    ("文登", "{county}"),
    ("山东", "安徽"),
    ("威海", "六安"),
)


def localise_unit_name(name: str, county: str) -> str:
    """Move a 文登 unit name to the demo county ("文登市印刷厂有限公司" -> "寿县印刷厂有限公司")."""
    for old, new in _PLACE_REPLACEMENTS:
        name = name.replace(old, new.format(county=county))
    return name


#: Trade names (字号) and lines of business for generated enterprise names.
TRADE_NAMES = _words(
    "寿州 楚都 八公山 淝水 芍陂 正阳 安丰 瓦埠湖 宾阳 淮河 金鼎 宏达 瑞丰 恒信 鑫源 华泰 永昌 兴隆 "
    "德润 汇通 同心 丰收 新城 东方 金穗 绿源 聚福 长丰 天成 盛世 嘉和 福瑞 信达 明珠 鼎盛 广源"
)
BUSINESS_LINES = _words(
    "建材 米业 粮油 豆制品 酒业 食品 纺织 服饰 建筑工程 建筑安装 运输 物流 农业开发 水产养殖 机械制造 "
    "农机 商贸 物业管理 印刷 塑业 电器 化工 环保科技 木业 砖瓦 饲料 茶业 医药 家具 汽车维修"
)
#: Old county-owned and collective enterprises: few employees now, many retirees.
OLD_COUNTY_ENTERPRISES = (
    "{county}粮食局直属粮库",
    "{county}第二轻工业公司",
    "{county}百货公司",
    "{county}五金交电公司",
    "{county}糖业烟酒公司",
    "{county}食品公司",
    "{county}医药公司",
    "{county}棉麻公司",
    "{county}物资总公司",
    "{county}建筑安装公司",
    "{county}汽车运输公司",
    "{county}纺织厂",
    "{county}化肥厂",
    "{county}水泥厂",
    "{county}酒厂",
    "{county}印刷厂",
    "{county}农机修造厂",
    "{county}自来水公司",
)
#: Per-township enterprises (old supply-and-marketing cooperatives and grain stations).
TOWNSHIP_ENTERPRISES = ("{township}供销合作社", "{township}粮站", "{township}农机站")

#: County institutions (机关事业单位).
COUNTY_INSTITUTIONS = (
    "{county}人民政府办公室",
    "{county}财政局",
    "{county}教育体育局",
    "{county}人力资源和社会保障局",
    "{county}公安局",
    "{county}卫生健康委员会",
    "{county}民政局",
    "{county}司法局",
    "{county}审计局",
    "{county}统计局",
    "{county}农业农村局",
    "{county}水利局",
    "{county}林业局",
    "{county}交通运输局",
    "{county}自然资源和规划局",
    "{county}住房和城乡建设局",
    "{county}市场监督管理局",
    "{county}文化旅游体育局",
    "{county}人民法院",
    "{county}人民检察院",
    "{county}档案馆",
    "{county}博物馆",
    "{county}广播电视台",
    "{county}人民医院",
    "{county}中医院",
    "{county}妇幼保健院",
    "{county}疾病预防控制中心",
    "{county}第一中学",
    "{county}第二中学",
    "{county}第三中学",
    "{county}职业教育中心",
    "{county}实验小学",
)
TOWNSHIP_INSTITUTIONS = ("{township}人民政府", "{township}中心学校", "{township}卫生院")

"""Name tables for the demo county: surnames by frequency, given names by sex and birth era, rare characters,
Hui and middle-dot minority names, and the spelling variants banks really produce.

Weights approximate national surname frequency (per 10,000); the given names follow the fashions of each era,
because a register of retirees full of "子涵" and "浩然" looks wrong at a glance.
"""

from __future__ import annotations


def words(text: str) -> tuple[str, ...]:
    """Split a table written as space-separated words."""
    return tuple(text.split())


_SURNAME_WEIGHTS = """
王 725 李 719 张 683 刘 538 陈 453 杨 308 黄 223 赵 229 吴 205 周 194 徐 163 孙 154 马 129 朱 128 胡 126
郭 114 何 107 高 105 林 97 罗 86 郑 78 梁 75 谢 70 宋 62 唐 62 许 60 韩 57 冯 55 邓 55 曹 53 彭 52 曾 48
肖 47 田 46 董 45 袁 44 潘 41 于 41 蒋 40 蔡 40 余 39 杜 38 叶 37 程 37 苏 35 魏 35 吕 34 丁 33 任 32 沈 31
姚 30 卢 30 姜 29 崔 28 钟 27 谭 26 陆 26 汪 33 范 25 金 24 石 24 廖 23 贾 23 夏 22 韦 22 付 21 方 21 白 20
邹 19 孟 19 熊 19 秦 18 邱 18 江 18 尹 17 薛 17 闫 16 段 16 雷 15 侯 15 龙 15 史 14 陶 14 黎 14 贺 13 顾 13
毛 13 郝 12 龚 12 邵 12 万 12 钱 12 严 11 单 4 解 3 仇 3 查 3 欧阳 3 司马 1 诸葛 1 上官 1
"""
SURNAMES: tuple[tuple[str, int], ...] = tuple(
    (name, int(weight))
    for name, weight in zip(_SURNAME_WEIGHTS.split()[::2], _SURNAME_WEIGHTS.split()[1::2], strict=True)
)

#: Surnames among the Hui of 陶店回族乡.
HUI_SURNAMES: tuple[tuple[str, int], ...] = (
    ("马", 30),
    ("丁", 8),
    ("白", 6),
    ("沙", 5),
    ("杨", 5),
    ("李", 5),
    ("王", 5),
    ("金", 4),
    ("海", 4),
    ("穆", 3),
    ("哈", 2),
    ("纳", 2),
    ("米", 2),
    ("洪", 2),
    ("兰", 2),
)

# Given names by birth era and sex. Two-character names dominate before 1980; one-character names peak
# in the 1970s-80s; the 2000s bring back two-character names of a new fashion.
GIVEN_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("old", "1"): words(
        "建国 建华 国庆 国强 国华 德明 德胜 德福 德才 永福 永祥 永胜 长林 长青 长春 春生 世明 正华 志明 志远 "
        "家福 家和 学文 文华 明山 金山 宝山 玉山 福林 福生 树林 广田 双喜 有才 有福 贵生 连生 忠诚 忠义 立新 "
        "卫东 卫国 援朝 抗美 跃进 解放 新民 振华 兴华 大海 大明 多福 明 忠 福 祥 贵 发 文 武 山 林 全 斌"
    ),
    ("old", "2"): words(
        "秀英 桂英 玉兰 玉珍 淑珍 凤英 秀兰 桂兰 素珍 兰英 玉英 秀珍 桂芝 凤兰 秀芳 玉梅 金凤 春兰 翠兰 翠英 "
        "爱华 美华 爱珍 月英 菊英 桂花 小妹 荷花 素英 桂珍 秀云 玉华 淑英 凤霞 英 兰 珍 芳 梅 花 凤 琴"
    ),
    ("mid", "1"): words(
        "伟 勇 军 强 磊 涛 斌 刚 杰 明 波 辉 峰 俊 平 华 林 健 亮 飞 建军 建平 卫东 红兵 志强 志刚 海涛 "
        "海军 晓东 文斌 永刚 小军 立军 国平 建新 德军 光明 春雷 向阳"
    ),
    ("mid", "2"): words(
        "丽 红 霞 敏 燕 艳 芳 娟 英 梅 萍 玲 静 琴 红梅 丽华 海燕 晓红 艳萍 春燕 玉红 美玲 丽娟 秀梅 "
        "文静 桂芳 小燕 晓梅 红霞 雪梅 丽萍 金凤 冬梅"
    ),
    ("young", "1"): words(
        "浩 宇 鹏 超 鑫 凯 帅 阳 博 涛 磊 浩然 子轩 宇航 俊杰 文博 一鸣 志豪 博文 嘉豪 浩宇 子豪 天佑 "
        "晨阳 泽宇 明轩 家乐 振宇 思远 宇轩 皓轩 梓豪 睿泽"
    ),
    ("young", "2"): words(
        "婷 雪 倩 静 娜 丹 琳 莹 悦 璐 欣怡 梓涵 雨涵 子涵 诗涵 佳怡 思雨 雅琪 梦瑶 欣然 晓雯 慧敏 婉婷 "
        "佳琪 可馨 雨欣 紫萱 梦琪 语嫣 若曦"
    ),
}


def era_of(birth_year: int) -> str:
    if birth_year < 1960:
        return "old"
    if birth_year < 1980:
        return "mid"
    return "young"


# Rare characters real registers carry and bank systems stumble on. The BMP ones are in GB 18030 but
# several are outside GBK; the Extension B ones (U+2xxxx) are outside both GBK and most bank fonts.
RARE_GIVEN_NAMES: dict[str, tuple[str, ...]] = {
    "1": (
        "堃",
        "喆",
        "昇",
        "赟",
        "燚",
        "犇",
        "淼",
        "垚",
        "焱",
        "镕",
        "翀",
        "昶",
        "暐",
        "彧",
        "俊堃",
        "子喆",
        "志昇",
        "文赟",
        "国犇",
        "鑫燚",
        "䶮",
    ),
    "2": ("玥", "珺", "琰", "瑄", "㛃", "淼", "思玥", "雨玥", "珺瑶", "晓琰", "婧瑄", "赟"),
}
EXT_B_GIVEN_NAMES: dict[str, tuple[str, ...]] = {
    "1": ("𠈌", "志𠈌", "𨭉", "文𨭉", "𡒄", "国𡒄"),
    "2": ("𡒄", "秀𡒄", "𠈌", "玉𨭉"),
}

#: Middle-dot minority names: ethnicity -> (male given names, female given names, second parts).
# Uyghur and Kazakh names are "own name·father's name"; the dot is U+00B7 as printed on the ID card.
DOT_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "维吾尔族": (
        (
            "买买提",
            "艾力",
            "艾尔肯",
            "阿不都热合曼",
            "吐尔逊",
            "热合曼",
            "艾克拜尔",
            "阿迪力",
            "伊力哈木",
            "努尔买买提",
        ),
        (
            "阿依古丽",
            "古丽米拉",
            "迪丽娜尔",
            "热依拉",
            "帕提古丽",
            "努尔古丽",
            "阿娜尔古丽",
            "再努尔",
            "米日古丽",
        ),
        ("艾力", "吐尔逊", "买买提", "阿不都", "热合曼", "艾合买提", "依明", "玉素甫", "卡德尔", "司马义"),
    ),
    "藏族": (
        ("扎西", "格桑", "旦增", "尼玛", "索朗", "次仁", "多吉"),
        ("次仁", "索朗", "德吉", "白玛", "格桑", "央金", "拉姆"),
        ("次仁", "多吉", "平措", "顿珠", "卓玛", "旺姆", "央金", "拉姆", "罗布"),
    ),
    "哈萨克族": (
        ("叶尔兰", "努尔兰", "别克", "哈力木", "阿斯哈尔"),
        ("阿依达娜", "古丽娜尔", "阿依努尔", "加娜尔"),
        ("努尔兰", "别克", "哈力木", "托列吾", "叶尔肯"),
    ),
}
DOT_ETHNICITY_WEIGHTS: tuple[tuple[str, int], ...] = (("维吾尔族", 6), ("藏族", 3), ("哈萨克族", 1))
MIDDLE_DOT = "\u00b7"

# --- spelling variants a bank account name really carries --------------------------------------------

#: Simplified -> traditional for characters common in names (an account opened in a traditional spelling).
TRADITIONAL: dict[str, str] = dict(
    zip(
        "张刘陈杨黄赵吴孙马罗郑谢韩冯邓肖叶苏吕钟陆龙贺顾龚钱严国华兰凤丽红军伟强云东庆荣长爱宝贵卫艳飞涛鸿进书兴发胜树杰丰静刚辉义宁广凯鹏帅梦晓",
        "張劉陳楊黃趙吳孫馬羅鄭謝韓馮鄧蕭葉蘇呂鍾陸龍賀顧龔錢嚴國華蘭鳳麗紅軍偉強雲東慶榮長愛寶貴衛艷飛濤鴻進書興發勝樹傑豐靜剛輝義寧廣凱鵬帥夢曉",
        strict=True,
    )
)
#: Rare character -> what a bank clerk typed instead (a homophone or a near form).
RARE_SUBSTITUTES: dict[str, str] = {
    "堃": "坤",
    "喆": "哲",
    "昇": "升",
    "赟": "贇",
    "燚": "亦",
    "犇": "奔",
    "淼": "森",
    "垚": "尧",
    "焱": "炎",
    "镕": "熔",
    "翀": "冲",
    "昶": "永",
    "暐": "伟",
    "彧": "或",
    "䶮": "岩",
    "玥": "月",
    "珺": "君",
    "琰": "炎",
    "瑄": "宣",
    "㛃": "洁",
}
#: What a system without the character stores instead of an Extension B character.
UNENCODABLE_PLACEHOLDER = "?"
#: Dots other than U+00B7 that bank systems use in minority names.
WRONG_DOTS = ("\u2022", "\uff0e", ".")


def is_rare_char(ch: str) -> bool:
    """Outside the BMP, or one of the listed rare BMP name characters."""
    return ord(ch) > 0xFFFF or ch in RARE_SUBSTITUTES

"""Person names: cleaning what a clerk types, and comparing names across systems.

The business system, the card system and the banks disagree on small things: full-width
letters, stray spaces, the middle dot of minority names (买买提·艾力 arrives as 买买提.艾力,
买买提•艾力 or 买买提・艾力) and traditional characters typed by a bank branch. A
mismatch means 户名不符 and a failed payment, so comparisons go through
:func:`normalize_name`; what we *store* is only cleaned by :func:`validate_person_name`.
"""

from __future__ import annotations

import functools
import unicodedata

from pypinyin import Style, lazy_pinyin

from shebao.core.errors import ValidationError

MIDDLE_DOT = "\u00b7"
NAME_MAX_LENGTH = 50

# Characters used in place of the middle dot of minority and foreign names. After NFKC,
# U+FF0E becomes "." and U+FF65 becomes U+30FB; both forms are listed anyway.
MIDDLE_DOT_VARIANTS = frozenset(
    {
        "\u00b7",  # · middle dot (the standard one)
        "\u2022",  # • bullet
        "\u30fb",  # ・ katakana middle dot
        "\uff0e",  # ． full-width full stop
        ".",  # ASCII full stop
        "\u2027",  # ‧ hyphenation point
        "\u2219",  # ∙ bullet operator
        "\u22c5",  # ⋅ dot operator
        "\uff65",  # ･ half-width katakana middle dot
        "\u0387",  # · Greek ano teleia
        "\u2e31",  # ⸱ word separator middle dot
        "\u2024",  # ․ one dot leader
        "\ufe52",  # ﹒ small full stop
        "\u16eb",  # ᛫ runic single punctuation
    }
)

# Invisible characters that copy-paste leaves behind; they are dropped silently.
_INVISIBLE = frozenset({"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"})

_FORMULA_PREFIXES = ("=", "+", "-", "@")

# Traditional → simplified for characters common in names and addresses. Only
# one-to-one pairs: characters whose simplification depends on meaning (乾, 於, 徵,
# 著, 幹, 藉, 瞭 ...) are left alone, because a surname such as 於 or 乾 is kept as
# it is in mainland registrations.
_TRADITIONAL_PAIRS = """
陳陈 張张 劉刘 黃黄 趙赵 吳吴 楊杨 鄭郑 謝谢 韓韩 許许 鄧邓 蕭萧 馮冯 盧卢 蔣蒋 羅罗 孫孙
馬马 葉叶 錢钱 賈贾 顧顾 蘇苏 範范 鄒邹 龔龚 萬万 湯汤 陸陆 嚴严 譚谭 鄔邬 賀贺 龐庞 喬乔
聶聂 溫温 鄺邝 歐欧 關关 衛卫 莊庄 鮑鲍 諸诸 費费 遲迟 紀纪 闞阚 藍蓝 畢毕 賴赖 單单 駱骆
鍾钟 鐘钟 閻阎 閆闫 魯鲁 韋韦 龍龙 齊齐 婁娄 連连 談谈 塗涂 淩凌 邊边 壽寿 榮荣 寧宁 鳳凤
黨党 農农 鞏巩 聞闻 倫伦 華华 嶽岳 計计 陰阴 權权 經经 麥麦 區区 鬱郁 頡颉 蘆芦 項项 闕阙
車车 竇窦 餘余 國国 麗丽 偉伟 東东 軍军 紅红 蘭兰 雲云 強强 勝胜 輝辉 鵬鹏 飛飞 傑杰 潔洁
靜静 韻韵 嬌娇 愛爱 慶庆 貴贵 寶宝 義义 禮礼 銘铭 鋒锋 銀银 鐵铁 鋼钢 錦锦 樂乐 瑩莹 瓊琼
鶯莺 鶴鹤 鴻鸿 鳴鸣 學学 書书 聖圣 賢贤 順顺 達达 進进 遠远 運运 發发 髮发 財财 團团 結结
聯联 業业 長长 億亿 嬋婵 嫻娴 瑤瑶 穎颖 綺绮 緒绪 維维 綠绿 紹绍 純纯 絲丝 納纳 繼继 續续
總总 蓮莲 藝艺 蘋苹 艷艳 豔艳 鵑鹃 鸞鸾 鷹鹰 鸝鹂 齡龄 憶忆 懷怀 憲宪 應应 勳勋 勵励 劍剑
剛刚 凱凯 傳传 俠侠 僑侨 儀仪 優优 儉俭 兒儿 亞亚 從从 嶺岭 島岛 峽峡 崗岗 巖岩 濤涛 潤润
澤泽 漁渔 淵渊 濱滨 燦灿 煥焕 營营 獻献 現现 環环 璽玺 瑋玮 禎祯 祿禄 穩稳 競竞 簡简 糧粮
紋纹 紗纱 絢绚 綿绵 緣缘 繡绣 聰聪 習习 聲声 肅肃 興兴 舉举 蓋盖 蒼苍 蕓芸 薈荟 藹蔼 蘊蕴
蔭荫 覺觉 觀观 親亲 詩诗 誠诚 詠咏 誼谊 謙谦 譽誉 豐丰 貞贞 貫贯 資资 賓宾 賞赏 贊赞 贇赟
躍跃 軒轩 輪轮 輔辅 遙遥 選选 鄰邻 釗钊 鈞钧 鈴铃 銳锐 錫锡 鐸铎 閣阁 陽阳 雙双 靈灵 頌颂
領领 頤颐 顏颜 願愿 顯显 風风 飄飘 馳驰 駿骏 騰腾 驊骅 驍骁 驥骥 鮮鲜 鯉鲤 鴿鸽 鵲鹊 鷗鸥
鷺鹭 韜韬 嶸嵘 崢峥 嵐岚 瀾澜 灃沣 瀅滢 瀟潇 湧涌 壯壮 夢梦 奮奋 姍姗 寬宽 實实 彥彦 晉晋
暉晖 曉晓 楓枫 櫻樱 歡欢 燁烨 煒炜 燾焘 顥颢 灝灏 霽霁 靚靓 瑪玛 琿珲 斕斓 濟济 濃浓 滄沧
滬沪 瀋沈 烏乌 無无 為为 熱热 燈灯 畫画 當当 盡尽 監监 眾众 礦矿 筆笔 築筑 篤笃 織织 纖纤
羨羡 翹翘 職职 臨临 萊莱 葦苇 處处 規规 識识 護护 讀读 變变 貝贝 賽赛 贈赠 轉转 適适 遜逊
遺遗 郵邮 鏡镜 鑒鉴 鑑鉴 閑闲 閒闲 闊阔 陣阵 雜杂 須须 頓顿 養养 驚惊 魚鱼 鹽盐 點点 齋斋
買买 賣卖 縣县 鎮镇 鄉乡 號号 樓楼 層层 門门 園园 灣湾 廣广 漢汉 滿满 遼辽 贛赣 粵粤 陝陕 隴陇 臺台
裏里 裡里 後后 復复 複复 鬆松 週周 會会 開开 電电 際际 隊队 橋桥 鄲郸 濰潍 灤滦
"""


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for pair in _TRADITIONAL_PAIRS.split():
        table[ord(pair[0])] = pair[1]
    return table


TRADITIONAL_TO_SIMPLIFIED: dict[int, str] = _build_table()

# Surnames whose reading differs from the everyday one (单 shàn, 曾 zēng, 解 xiè ...):
# pypinyin reads characters out of context, so the first letter of a Han surname is fixed here.
_SURNAME_INITIALS = {
    "单": "s",
    "曾": "z",
    "解": "x",
    "仇": "q",
    "区": "o",
    "查": "z",
    "覃": "q",
    "翟": "z",
    "繁": "p",
    "秘": "b",
    "种": "c",
    "召": "s",
    "员": "y",
    "句": "g",
    "宓": "f",
    "隗": "w",
    "缪": "m",
    "朴": "p",
    "盖": "g",
}
_COMPOUND_SURNAME_INITIALS = {"万俟": "mq", "长孙": "zs", "尉迟": "yc", "单于": "cy"}


def _map_dots(text: str) -> str:
    """Replace every dot variant by U+00B7 and collapse runs of dots into one."""
    out: list[str] = []
    for ch in text:
        if ch in MIDDLE_DOT_VARIANTS:
            if out and out[-1] == MIDDLE_DOT:
                continue
            out.append(MIDDLE_DOT)
        else:
            out.append(ch)
    return "".join(out)


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if not ch.isspace() and ch not in _INVISIBLE)
    text = _map_dots(text)
    text = text.translate(TRADITIONAL_TO_SIMPLIFIED)
    return text.upper()


def normalize_name(name: str) -> str:
    """The comparison key of a name (never stored, never shown).

    NFKC (full-width → half-width), all whitespace removed (U+3000 too), every middle-dot
    variant → U+00B7, common traditional characters → simplified, Latin letters upper-case.
    Idempotent: ``normalize_name(normalize_name(x)) == normalize_name(x)``.
    """
    result = _normalize_once(name)
    # NFKC and upper-casing can each expose input for the other on exotic text; iterate to a
    # fixed point (one pass for any real name) so that the key is stable.
    for _ in range(4):
        again = _normalize_once(result)
        if again == result:
            break
        result = again
    return result


def names_equal(a: str, b: str) -> bool:
    """Whether two spellings name the same person for matching purposes."""
    return normalize_name(a) == normalize_name(b)


def name_pinyin_initials(name: str) -> str:
    """Lower-case pinyin initials for search and sorting: 张三 → ``"zs"``, 买买提·艾力 → ``"mmtal"``.

    The middle dot is ignored; Latin words contribute their first letter; characters
    pypinyin does not know (some rare ones) are skipped. Polyphonic surnames (单, 曾,
    解 ...) use their surname reading.
    """
    text = _map_dots(unicodedata.normalize("NFKC", name).strip())
    prefix = ""
    if MIDDLE_DOT not in text:
        for compound, initials in _COMPOUND_SURNAME_INITIALS.items():
            if text.startswith(compound) and len(text) > len(compound):
                prefix, text = initials, text[len(compound) :]
                break
        else:
            if text[:1] in _SURNAME_INITIALS and len(text) > 1:
                prefix, text = _SURNAME_INITIALS[text[0]], text[1:]
    if _all_han(text):
        # The common case (a Han name): one cached look-up per character instead of a pypinyin call.
        return prefix + "".join(_han_initial(ch) for ch in text)
    letters: list[str] = []
    for chunk in lazy_pinyin(text, style=Style.FIRST_LETTER):
        for word in chunk.replace(MIDDLE_DOT, " ").split():
            first = word[0]
            if first.isascii() and first.isalnum():
                letters.append(first.lower())
    return prefix + "".join(letters)


def _all_han(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


@functools.lru_cache(maxsize=32_768)
def _han_initial(ch: str) -> str:
    """The first letter of one Han character's most common reading ('' when pypinyin does not know it)."""
    first = lazy_pinyin(ch, style=Style.FIRST_LETTER)[0][:1]
    return first.lower() if first.isascii() and first.isalnum() else ""


def clean_person_name(raw: str) -> str:
    """Tidy a typed name without judging it: NFKC, trimmed, invisible characters dropped,
    dot variants → U+00B7 without spaces around, spaces between Han characters removed,
    other whitespace runs → one space (foreign names keep their word breaks)."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if ch not in _INVISIBLE)
    text = _map_dots(text)
    words = text.split()
    out = ""
    for word in words:
        if out and not (_is_han_or_dot(out[-1]) or _is_han_or_dot(word[0])):
            out += " "
        out += word
    return out


def _is_han_or_dot(ch: str) -> bool:
    return ch == MIDDLE_DOT or _is_cjk_codepoint(ch)


def _is_cjk_codepoint(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3400 <= code <= 0x9FFF  # Extension A + unified
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # Extensions B-I and beyond, planes 2-3
        or code == 0x3007  # 〇
    )


def validate_person_name(raw: str, *, field: str = "name") -> str:
    """Clean a person's name and check it can be stored and sent to a bank.

    Returns the cleaned name (see :func:`clean_person_name`). Rejects empty names,
    more than 50 characters, ``<`` ``>``, control characters, digits and a leading
    ``=`` ``+`` ``-`` ``@`` (spreadsheet formula injection). Rare characters outside
    the basic plane (e.g. 𠈌) are valid.
    """
    if not isinstance(raw, str):
        raise ValidationError("姓名必须是文本", field=field)
    name = clean_person_name(raw)
    if not name:
        raise ValidationError("姓名不能为空", field=field)
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(f"姓名最多{NAME_MAX_LENGTH}个字，当前为{len(name)}个", field=field)
    if name.startswith(_FORMULA_PREFIXES):
        raise ValidationError(f"姓名不能以“{name[0]}”开头", field=field)
    if name.startswith(MIDDLE_DOT) or name.endswith(MIDDLE_DOT):
        raise ValidationError("姓名不能以间隔号“·”开头或结尾", field=field)
    for ch in name:
        if ch in "<>":
            raise ValidationError("姓名不能包含“<”或“>”", field=field)
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            raise ValidationError("姓名包含不可见的控制字符，请重新输入", field=field)
        if category in ("Nd", "No") or (category == "Nl" and ch != "\u3007"):
            raise ValidationError("姓名不能包含数字", field=field)
    return name

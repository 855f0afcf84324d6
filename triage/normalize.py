"""Text normalisation ahead of keyword matching.

Residents write in simplified and traditional Chinese, Cantonese, English and mixtures of
all of them, from phones that insert full-width forms, emoji and pasted links. The lexicon is
written once; this module folds every message into the one form the lexicon is matched
against, and it is applied to the lexicon's own entries too, so both sides always agree.

It must also be safe on anything a chat can deliver: the input is capped before any work
is done, so a 100,000-character paste or a binary blob costs no more than a normal message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from triage.t2s_table import PAIRS

MAX_CHARS: Final = 2000
"""Only this many characters of a message are looked at.

A report states its problem early; what follows in a very long message is detail or noise,
and bounding the work keeps classification O(1) per message whatever is pasted.
"""

# Traditional (and a few variant) characters folded to the simplified ones the lexicon uses:
# the hand-picked pairs below, written for the lexicon, plus OpenCC's full character table
# (triage.t2s_table), which the trained model needs because it learns from n-grams of the
# whole message, not only of lexicon words. The lexicon is normalised with this same table,
# so both sides always agree.
_T2S_PAIRS: Final = """
樓楼 車车 該该 條条 燈灯 壞坏 電电 氣气 燒烧 滅灭 災灾 煙烟 傷伤 醫医 衛卫 衞卫 聲声 擾扰 環环 濁浊
業业 權权 證证 價价 貨货 飲饮 廳厅 過过 員员 資资 險险 養养 殘残 補补 貼贴 糾纠 紛纷 詐诈 騙骗 盜盗
門门 鎖锁 裝装 處处 勞劳 動动 發发 沒没 無无 關关 閘闸 斷断 麼么 辦办 應应 區区 樹树 場场 雜杂 亂乱
擺摆 賣卖 攤摊 違违 塗涂 廣广 報报 紙纸 線线 掛挂 輛辆 殭僵 屍尸 棄弃 號号 紅红 綠绿 擁拥 擠挤 單单
鐵铁 馬马 橋桥 溝沟 蓋盖 積积 龍龙 頭头 壓压 熱热 網网 點点 進进 頂顶 鄰邻 間间 蟲虫 檢检 測测 離离
暈晕 嘔呕 鬥斗 毆殴 搶抢 嚇吓 洩泄 觸触 謝谢 請请 問问 議议 詢询 諮咨 優优 購购 職职 嗎吗 們们 個个
這这 裡里 裏里 為为 會会 來来 說说 話话 對对 時时 後后 開开 幾几 從从 當当 實实 邊边 響响 鐘钟 鍾钟
夠够 機机 爛烂 臟脏 髒脏 將将 舊旧 築筑 廢废 隱隐 衝冲 緊紧 嚴严 責责 負负 誰谁 護护 顧顾 癱瘫 瘓痪
獨独 貧贫 難难 執执 營营 戶户 註注 冊册 稅税 務务 貸贷 園园 庫库 廠厂 寫写 腳脚 爐炉 鍋锅 壺壶 鳴鸣
貓猫 糞粪 溫温 風风 颱台 歲岁 濕湿 漬渍 滲渗 牆墙 縫缝 鋼钢 塵尘 揚扬 噴喷 灑洒 廚厨 餘余 廁厕 診诊
藥药 學学 兒儿 賭赌 黃黄 傳传 銷销 鬧闹 罵骂 脅胁 鎮镇 屬属 統统 設设 備备 維维 換换 檔档 買买 錢钱
貴贵 還还 讓让 給给 幫帮 煩烦 淨净 潔洁 圍围 擋挡 佔占 據据 墜坠 異异 標标 誌志 歡欢 贈赠 領领 碼码
掃扫 錄录 團团 聯联 繫系 係系 獎奖 賺赚 萬万 數数 殺杀 槍枪 驚惊 爭争 訴诉 舉举 駕驾 駛驶 欄栏 塊块
層层 變变 轉转 墮堕 輸输 諗谂 搵揾 著着 濫滥 蓆席 糧粮 綜综 長长 剝剥 灣湾 銀银 費费 漲涨 騷骚 狀状
態态 況况 涼凉 滯滞 壩坝 嶺岭 闆板 廈厦 筍笋 蘋苹 華华 陽阳 陰阴 臺台 檯台 蟻蚁 蠅蝇 鴿鸽 雞鸡 殯殡
墳坟 憂忧 慮虑 瀉泻 燙烫 噸吨 輪轮 喪丧 陳陈 飯饭 館馆 麵面 鮮鲜 黴霉 霧雾 鏽锈 銹锈 剷铲 鏟铲 溼湿
礙碍 礦矿 瓏珑 蔭荫 遲迟 遷迁 賬账 僱雇 傭佣 婦妇 孫孙 聾聋 啞哑 齡龄 際际 療疗 闖闯 綫线 駁驳 彎弯
東东 丟丢 兩两 樂乐 產产 偽伪 僞伪 體体 內内 決决 擊击 寵宠 尋寻 盡尽 並并 張张 惡恶 拋抛 損损 搖摇
曬晒 桿杆 樣样 橫横 窪洼 濃浓 澇涝 燭烛 畫画 暢畅 癬癣 監监 禍祸 穩稳 竊窃 類类 經经 綁绑 結结 繩绳
脫脱 節节 蒼苍 釁衅 訪访 討讨 許许 調调 財财 質质 販贩 讚赞 贊赞 趕赶 蹤踪 運运 跡迹 蹟迹 鋪铺 舖铺
鏈链 順顺 預预 題题 飆飙 飛飞 鴉鸦 兇凶 釐厘 葉叶 囪囱 託托 湧涌 復复 複复 週周 幣币 藝艺 歷历 曆历
禮礼 鄉乡 驗验
"""


def _build_t2s() -> dict[int, int]:
    table: dict[int, int] = {}
    for pair in (*PAIRS.split(), *_T2S_PAIRS.split()):
        trad, simp = pair[0], pair[1]
        if trad != simp:
            table[ord(trad)] = ord(simp)
    # OpenCC has chains (薴→苧→苎): follow each to its end so that one pass is enough.
    for source, target in list(table.items()):
        seen = {source}
        while target in table and target not in seen:
            seen.add(target)
            target = table[target]
        if target == source:  # a cycle would undo itself: leave the character alone
            del table[source]
        else:
            table[source] = target
    return table


_T2S: Final = _build_t2s()

_URL_RE: Final = re.compile(
    r"(?:https?://|ftp://|www\.)[!-~]+"
    r"|(?<![a-z0-9@.])[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|hk|io|me|cc|co)"
    r"(?:/[!-~]*)?(?![a-z0-9])"
)
# Anything that looks like a phone number: seven or more digits, possibly with separators.
# Short numbers (110, 119, block 5, 9点, 10年) survive because they carry meaning.
_PHONE_CANDIDATE_RE: Final = re.compile(r"(?<![0-9])\+?[0-9][0-9 \-]{5,}[0-9](?![0-9])")
_SPACE_RE: Final = re.compile(r"\s+")
_CJK: Final = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_GAP_RE: Final = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_DROPPED: Final = "\x00"
_KEEP_PREFIXES: Final = ("L", "N", "M", "P")


class _CharFilter(dict[int, str | None]):
    """``str.translate`` table that decides per code point on first sight and remembers.

    Letters, digits, marks and punctuation pass; whitespace becomes a space; symbols (emoji,
    dingbats, currency), controls, private-use, unassigned and U+FFFD become a marker so that
    they can be counted and then turned into a gap. Deciding lazily avoids scanning all of
    Unicode at import time while keeping each later lookup a dict hit.
    """

    def __missing__(self, codepoint: int) -> str | None:
        char = chr(codepoint)
        result: str | None
        if char.isspace():
            result = " "
        elif codepoint == 0xFFFD:
            result = _DROPPED
        elif unicodedata.category(char).startswith(_KEEP_PREFIXES):
            result = char
        else:
            result = _DROPPED
        if len(self) < 65536:  # bound the cache against adversarial input
            self[codepoint] = result
        return result


_CHAR_FILTER: Final = _CharFilter()


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus what was taken out of it.

    Chatter detection needs to know what a message was before it was cleaned: a message
    that was only a link, or only emoji, is empty afterwards, and that is not the same as a
    message that was empty to begin with.
    """

    text: str
    urls: int = 0
    phones: int = 0
    symbols: int = 0
    truncated: bool = False

    @property
    def has_content(self) -> bool:
        """True if any letter or digit survived: punctuation alone says nothing."""
        return any(ch.isalnum() for ch in self.text)

    @property
    def content_length(self) -> int:
        """Letters and digits only, so that ``!!!`` or spacing does not make text "long"."""
        return sum(1 for ch in self.text if ch.isalnum())


def _strip_phone(match: re.Match[str]) -> str:
    digits = sum(1 for ch in match.group() if ch.isdigit())
    return " " if digits >= 7 else match.group()


def analyze(text: str) -> Normalized:
    """Normalise ``text`` and report what was removed.

    The order matters: NFKC first so that full-width letters and digits become ASCII before
    URLs and phone numbers are recognised; case folding and traditional→simplified before
    anything is compared; symbol removal last so that URL punctuation is gone with its URL.
    """
    if not isinstance(text, str):  # defensive: callers in other layers are loosely typed
        text = str(text)
    truncated = len(text) > MAX_CHARS
    head = text[:MAX_CHARS]
    head = unicodedata.normalize("NFKC", head)[:MAX_CHARS]
    head = head.lower().translate(_T2S)

    head, urls = _URL_RE.subn(" ", head)
    before = head
    head = _PHONE_CANDIDATE_RE.sub(_strip_phone, head)
    phones = 0 if head == before else len(_PHONE_CANDIDATE_RE.findall(before))

    head = head.translate(_CHAR_FILTER)
    symbols = head.count(_DROPPED)
    if symbols:
        head = head.replace(_DROPPED, " ")
    head = _SPACE_RE.sub(" ", head).strip()
    # Chinese is written without spaces; a space between two hanzi is an artefact of input
    # methods or of the removals above and would otherwise split a keyword in two.
    head = _CJK_GAP_RE.sub("", head)
    return Normalized(head, urls=urls, phones=phones, symbols=symbols, truncated=truncated)


def normalize(text: str) -> str:
    """The text the lexicon is matched against; see :func:`analyze`."""
    return analyze(text).text

"""What problem at what place: the part of a report that decides whether it is a duplicate.

Two neighbours who write "3栋门口路灯不亮" and "3號樓門口嘅街燈壞咗" report one problem; a
neighbour who writes "3栋门口井盖松了" reports another, at the same spot. Shared characters
cannot tell these apart (the second and third share more than the first and second), so a
report is reduced to a :class:`Signature`:

* **objects** — the kinds of thing that is wrong (``street_light``, ``manhole``,
  ``cooking_fumes`` …), from a lexicon of the words residents use for each in simplified and
  traditional Chinese, Cantonese and English (:data:`OBJECTS`);
* **places** — the named spots in the text, normalised so that different spellings of one
  place compare equal: a building (``3栋``, ``3号楼``, ``三幢``, ``Block 3`` →
  ``building:3``), a gate (``北门``, ``north gate`` → ``gate:north``), a named road, a named
  shop, school or market, a house number.

:func:`compare` then says whether two signatures are the same problem at the same place
(``SAME``), probably are (``LIKELY``: the same place and the problem named in other words,
merged only when no other open case fits), could be (``MAYBE``: one of them names no place,
or they share an object but not all of them) or are not (``DIFFERENT``). When in doubt it
says ``MAYBE``, never ``SAME``: a false merge hides a problem inside someone else's case, a
missed merge costs a worker one tap on the "可能重复" link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from triage.features import fold_cantonese
from triage.normalize import normalize


def _table(text: str) -> dict[str, tuple[str, ...]]:
    """Parse ``kind: phrase | phrase | …`` lines (a phrase may hold spaces; an indented
    line continues the one above)."""
    table: dict[str, tuple[str, ...]] = {}
    entries = re.sub(r"\n\s+(?=\S)(?![a-z_]+:)", " ", text.strip()).splitlines()
    for entry in entries:
        kind, _, phrases = entry.strip().partition(":")
        table[kind.strip()] = tuple(p.strip() for p in phrases.split("|") if p.strip())
    return table


# Each object kind with the words for it, already in normalised form (simplified,
# lower-case; Cantonese words are folded into Mandarin before matching, so 冇水 is 没水).
# A longer word wins over a shorter one it contains ("路灯杆" over "灯"), so generic words
# can sit beside specific ones; a word that names no problem on its own is not listed.
OBJECTS: Final[Mapping[str, tuple[str, ...]]] = _table(
    """
    street_light: 路灯 | 街灯 | 灯杆 | 路灯杆 | 照明灯 | 马路灯 | 太阳能灯 | 庭院灯 | 草坪灯 |
        景观灯 | street light | streetlight | street lamp | lamp post | lamppost | road light
    stair_light: 楼道灯 | 声控灯 | 楼梯灯 | 走廊灯 | 感应灯 | 梯间灯 | 楼道的灯 | 楼梯间的灯 |
        stairwell light | corridor light | hallway light | stair light
    manhole: 井盖 | 沙井盖 | 窨井盖 | 下水道盖 | 检查井 | 雨水井盖 | 污水井盖 | 井口 | 检修井 |
        雨水井 | 污水井 | 下水井 | manhole | drain cover | sewer cover
    road_surface: 坑洼 | 路面 | 大坑 | 坑坑洼洼 | 塌陷 | 路面塌 | 烂路 | 路烂 | 破路 | 凹陷 |
        pothole | road surface | sinkhole | cracked road
    waterlogging: 积水 | 水浸 | 水淹 | 被淹 | 淹了 | 浸水 | 内涝 | 水浸街 | 泡在水里 | 一片汪洋 |
        水还没退 | 水没退 | 跟河一样 | 变小河 | 一大滩水 | 一滩水 | 水还没抽 | 抽水 | 泡了 |
        flooding | flooded | waterlogged | water logging | standing water
    drain: 下水道 | 排水沟 | 下水口 | 雨水口 | 地漏 | 下水不通 | 下水堵 | 立管 | 管道堵 | 马桶堵 |
        雨水篦 | 排水口 | 沙井 | 渠道堵 | 水渠 | 明渠 | 暗渠 | 沟渠 | drain | sewer | gutter
    water_outage: 停水 | 没水 | 断水 | 水压低 | 水压小 | 水压不足 | 水压 | 来水 | 没来水 |
        水很小 | 没有自来水 | 自来水停 | 没有水 | 一滴水都没有 | 一滴水也没有 | 不出水 |
        水出不来 | no water | water cut | water outage | low water pressure
    water_quality: 水质 | 水发黄 | 黄水 | 水浑 | 浑浊 | 水黄 | 水是黄 | 黄黄的 | 有锈 | 水箱 |
        自来水有异味 | 水有异味 | 锈水 | dirty water | brown water | tap water smells
    pipe_burst: 爆管 | 水管爆 | 水管破 | 水管裂 | 喷水 | burst pipe | water main | pipe burst
    power_outage: 停电 | 没电 | 断电 | 跳闸 | 电压不稳 | 电压低 | power cut | power outage |
        blackout | no power | no electricity
    gas_leak: 煤气味 | 燃气味 | 天然气味 | 漏气 | 煤气泄漏 | 燃气泄漏 | 煤气泄露 | 燃气泄露 |
        液化气味 | 液化气 | 煤气罐 | 气罐 | 燃气罐 | 煤气 | 燃气 | 天然气 | gas leak |
        smell of gas | smells of gas | gas smell
    cooking_fumes: 油烟 | 炒菜味 | 排烟 | 油烟机 | 烟道 | 烧烤烟 | 烟熏 | 烟囱 | 排风口 |
        烧烤摊的烟 | 烧烤店的烟 | 烤串的烟 | 孜然味 | 辣椒味 | 油烟味 | cooking fumes |
        kitchen fumes | kitchen smoke | grease smoke | bbq smoke
    noise: 噪音 | 噪声 | 嗡嗡 | 轰轰 | 动次打次 | 震天响 | 风机声 | 排风机 | 扰民 | 很吵 | 好吵 |
        太吵 | 吵死 | 吵到 | 吵得 | 吵闹 | 吵 | 音响 | 广场舞 | 喇叭 | 电钻 | 打桩 | 夜间施工 |
        半夜施工 | 施工到 | 装修声 | 砸墙 | 敲敲打打 | ktv | 唱歌 | 卡拉ok | 狗叫 | noise |
        noisy | loud music | too loud | drilling
    garbage: 垃圾 | 垃圾桶 | 垃圾站 | 垃圾堆 | 垃圾房 | 垃圾箱 | 建筑垃圾 | 装修垃圾 | 废品 |
        rubbish | garbage | trash | bins | litter
    vendor: 摆摊 | 摊贩 | 小贩 | 占道经营 | 走鬼 | 流动摊 | 地摊 | 夜市摊 | hawker |
        street vendor | vendors | stalls
    illegal_building: 违建 | 违章建筑 | 违章搭建 | 私搭乱建 | 加建 | 搭建 | 僭建 | 铁皮房 |
        阳光房 | illegal construction | illegal extension | illegal structure
    flyposting: 小广告 | 牛皮癣 | 乱贴 | 乱涂 | 喷涂广告 | 涂鸦 | 贴满广告 | flyers | posters |
        graffiti
    illegal_parking: 乱停 | 违停 | 违章停车 | 占道停车 | 乱停车 | 乱泊 | 停在人行道 | 堵住出口 |
        堵车位 | 挡住车库 | 双排停车 | 停满了车 | 乱停乱放 | 占了两条道 | 占道 |
        illegally parked | illegal parking | double parked | parked on the pavement |
        parked on the sidewalk
    abandoned_vehicle: 僵尸车 | 废弃车 | 弃置车 | 报废车 | 废旧车辆 | 长期停放 | 停了半年 |
        停了快半年 | 轮胎都瘪 | 落满灰 | 几个月没动 | abandoned car | abandoned vehicle |
        zombie car
    traffic_signal: 红绿灯 | 信号灯 | 交通灯 | 红灯 | 绿灯 | traffic light | traffic lights |
        traffic signal | pedestrian light
    bikes: 共享单车 | 单车乱放 | 单车堆 | 乱放的单车 | 单车 | 小黄车 | 小蓝车 | 哈啰 |
        shared bikes | bike clutter | bicycles everywhere
    lift: 电梯 | 升降梯 | 升降机 | 货梯 | 客梯 | 载货电梯 | 困人 | 关人 | 困在电梯 | lift |
        elevator
    leak: 漏水 | 渗水 | 天花渗 | 墙渗水 | 漏雨 | 天花板 | 天棚 | 返潮 | 水渍 | 防水 | 彩钢瓦 |
        雨棚 | 往下漏 | 漏下来 | 渗漏 | leak | leaking | seepage | dripping
    fire_lane: 消防通道 | 消防车道 | 生命通道 | fire lane | fire access
    fire_exit: 安全出口 | 逃生通道 | 走火通道 | 疏散通道 | 逃生门 | 安全门 | 走火梯 | fire exit |
        fire escape | emergency exit
    hydrant: 消防栓 | 消火栓 | 消防水带 | 消防箱 | 消防水管 | 喷淋 | fire hydrant | hydrant |
        sprinkler
    extinguisher: 灭火器 | 灭火筒 | extinguisher
    ebike_charging: 飞线充电 | 电动车充电 | 电瓶车充电 | 楼道充电 | 充电 | 电动车进楼 | 飞线 |
        插着充 | e-bike charging | ebike charging | charging scooters | charging e-bikes
    structure_danger: 围墙 | 墙体 | 墙裂 | 倒塌 | 危墙 | 危房 | 外墙脱落 | 墙皮脱落 | 瓷砖脱落 |
        瓷砖 | 瓷片 | 外墙 | 掉砖 | 脚手架 | 裂缝 | 摇摇欲坠 | collapse | collapsing |
        cracked wall | falling tiles
    wires: 电线 | 电缆 | 电箱 | 配电箱 | 乱拉的线 | 电线杆 | 线缆 | 网线 | 光缆 | 漏电 | 火花 |
        打火 | 冒火花 | 这根线 | 那根线 | 配电房 | 配电间 | 变压器 | 电房 | live wire | cable |
        cables | wires | electric box | sparks | power room
    tree: 树枝 | 大树 | 树木 | 倒树 | 枯树 | 树倒 | 树 | tree | trees | branch | branches
    pests: 老鼠 | 鼠患 | 蟑螂 | 白蚁 | 耗子 | rats | mice | rat | cockroaches | roaches
    mosquitoes: 蚊子 | 蚊虫 | 苍蝇 | mosquitoes | mosquito | flies
    dogs: 流浪狗 | 狗屎 | 狗粪 | 恶犬 | 野狗 | 狗咬 | 流浪猫 | 野猫 | stray dogs | stray dog |
        dog poo | dog mess
    sewage: 污水 | 臭水 | 粪水 | 化粪池 | 排污 | 黑臭 | 粪便 | sewage | foul water
    odour: 臭味 | 异味 | 恶臭 | 臭气 | stink | stench | foul smell
    dust: 扬尘 | 灰尘 | 尘土 | 粉尘 | 灰很大 | 灰太大 | 灰大 | 一层土 | 一层灰 | 漫天灰 | dust |
        dusty
    fire: 着火 | 起火 | 失火 | 火灾 | 浓烟 | 烧起来 | 火苗 | 焦味 | 烧焦 | 冒火 | 焦糊 | fire |
        on fire | burning
    wages: 工资 | 欠薪 | 拖欠工资 | 讨薪 | 工钱 | wages | unpaid | salary
    bus: 公交车 | 公交线路 | 公交站牌 | 站牌 | 候车亭 | 公车 | bus route | bus service |
        bus shelter
    toilet: 公厕 | 公共厕所 | 厕所 | public toilet | toilets
    railing: 栏杆 | 护栏 | 扶手 | railing | guardrail | handrail
    property_management: 物业费 | 物业公司 | 物业管理 | 物业不作为 | property management |
        management fee
    heating: 暖气 | 供暖 | heating | radiator
    falling_objects: 高空抛物 | 高空坠物 | 乱扔东西 | 往楼下扔 | 从楼上扔 | 楼上扔 | 往下扔 |
        thrown from | falling objects
    ac_drip: 空调水 | 空调滴水 | 空调外机 | 空调 | air conditioner | air-con | aircon
    ice: 结冰 | 全是冰 | 冻上 | 滑得 | 路滑 | 地滑 | icy
    barrier: 道闸 | 抬杆 | 杆子抬不起 | 车闸 | barrier
    access_control: 门禁 | 门禁卡 | 人脸识别 | 刷卡 | 对讲 | 可视对讲 | 单元门锁 | 门锁坏 |
        access control | door entry | intercom
    hot_water: 热水 | 热水器 | 锅炉 | 太阳能热水 | 没热水 | hot water | boiler
    crossing: 斑马线 | 人行横道 | 减速带 | 红绿灯 | zebra crossing | crosswalk | speed bump
    pond: 水塘 | 池塘 | 鱼塘 | 死鱼 | 景观池 | 水池 | 喷水池 | 人工湖 | 河涌 | 河道 | 臭水沟 |
        pond | dead fish | canal
    charger: 充电桩 | 充电站 | 充电柜 | charging point | charging station | charger
    playground_equipment: 秋千 | 滑梯 | 跷跷板 | 健身器材 | 健身器 | 单杠 | swing | slide |
        exercise equipment
    """
)

GENERIC: Final[Mapping[str, tuple[str, ...]]] = _table(
    """
    any_light: 灯 | 灯泡 | 灯管 | lamp | light | lights
    any_cover: 盖子 | 盖板 | 铁盖 | 铁板 | 盖 | cover | lid
    any_smoke: 冒烟 | 烟 | smoke | smoking
    any_smell: 味道 | 气味 | 味儿 | 味 | 臭 | 馊 | smell | smells | smelly
    any_hole: 大洞 | 洞口 | 洞 | 坑 | 口子 | hole
    any_ditch: 地沟 | 水沟 | 沟 | ditch
    any_works: 施工 | 工地 | 装修 | construction | building site
    any_dog: 狗 | 犬 | dog | dogs
    any_ebike: 电瓶车 | 电动车 | 电单车 | 电瓶 | e-bike | ebike | scooter
    any_green: 草坪 | 绿化带 | 花坛 | 草地 | lawn
    any_water: 自来水 | 水管 | 水龙头 | tap
    any_stall: 摊子 | 摊位 | 摊 | stall
    any_block: 堵住 | 堵死 | 堵了 | 堵 | 挡住 | blocked | blocking
    any_drip: 滴水 | 滴 | 漏 | drip | dripping
    any_collapse: 塌 | 垮 | 崩 | 裂 | collapsed | cracked
    """
)
"""Words that name a kind of thing but not which one: 那盏灯 is a street light or a stair
light, 盖子 most likely a manhole cover, 烟 fumes or a fire. A report counts one only when it
names nothing more specific; see :data:`FAMILIES` for what each may stand for."""

FAMILIES: Final[Mapping[str, frozenset[str]]] = {
    "any_light": frozenset({"street_light", "stair_light"}),
    "any_cover": frozenset({"manhole"}),
    "any_smoke": frozenset({"cooking_fumes", "fire"}),
    "any_smell": frozenset(
        {"odour", "gas_leak", "cooking_fumes", "garbage", "sewage", "drain", "pond"}
    ),
    "any_hole": frozenset({"road_surface", "manhole"}),
    "any_ditch": frozenset({"drain", "sewage", "waterlogging"}),
    "any_works": frozenset({"noise", "dust"}),
    "any_dog": frozenset({"dogs", "noise"}),
    "any_ebike": frozenset({"ebike_charging", "illegal_parking", "fire_lane"}),
    "any_green": frozenset({"tree"}),
    "any_water": frozenset({"water_outage", "water_quality", "pipe_burst", "leak"}),
    "any_stall": frozenset({"vendor"}),
    "any_block": frozenset({"illegal_parking", "fire_lane", "fire_exit", "vendor"}),
    "any_drip": frozenset({"leak", "ac_drip", "pipe_burst"}),
    "any_collapse": frozenset({"road_surface", "structure_danger"}),
}

COMPANIONS: Final[tuple[frozenset[str], ...]] = (
    frozenset({"drain", "sewage", "waterlogging", "odour"}),
    frozenset({"garbage", "odour", "mosquitoes"}),  # rats are pest control's, not a symptom
    frozenset({"wires", "fire", "power_outage"}),
    frozenset({"cooking_fumes", "odour"}),
    frozenset({"fire_lane", "illegal_parking", "abandoned_vehicle"}),
    frozenset({"pond", "odour", "mosquitoes", "sewage"}),
    frozenset({"water_outage", "water_quality"}),
    frozenset({"ebike_charging", "wires", "fire"}),
    frozenset({"falling_objects", "garbage"}),
    frozenset({"manhole", "road_surface"}),
    frozenset({"bikes", "illegal_parking"}),
)
"""Kinds residents name together for one problem: a blocked drain overflows with sewage and
stinks; a sparking wire is a fire risk. Two reports whose kinds all sit in one group and
share one are likely one problem — likely, not surely (see :func:`compare`)."""

_IGNORED: Final[tuple[str, ...]] = (
    "电梯厅", "电梯口", "电梯间", "电梯旁", "公交站", "公交站台", "公交车站", "bus stop",
    "锅炉房", "烟头", "抽烟", "烟花", "香烟", "遛狗", "灯光", "开灯", "关灯", "别打火", "不要打火",
    "别点火", "车灯", "手电", "电筒", "味精",
)  # fmt: skip
"""Phrases that contain an object word but name a spot or an act (电梯厅 is where, not what;
遛狗 says what the resident was doing): matched first and dropped."""

_PLACE_SPOTS: Final[Mapping[str, tuple[str, ...]]] = _table(
    """
    garage: 地下车库 | 车库 | 停车场 | 地库 | 负一楼 | 负一层 | 负二楼 | 负二层 | 地下室 |
        car park | parking garage | garage | basement
    rooftop: 天台 | 楼顶 | 屋顶 | 顶楼 | 顶层 | 最上面一层 | 最高层 | rooftop | roof | top floor
    market: 菜市场 | 农贸市场 | 市场 | wet market | market
    """
)
"""Spots named by a common noun: they mark a place only weakly (one estate has one 天台
per building), so they never make a merge on their own, but two different ones do keep
reports apart."""

_LANDMARKS: Final[Mapping[str, tuple[str, ...]]] = _table(
    """
    playground: 游乐场 | 儿童乐园 | 滑梯 | 游乐区 | 儿童游乐 | playground
    square: 广场 | 坪里 | square | plaza
    court: 篮球场 | 球场 | 羽毛球场 | basketball court
    pool: 游泳池 | 泳池 | swimming pool
    canteen: 食堂 | 饭堂 | 餐厅后厨 | canteen
    power_room: 配电房 | 配电间 | 电房 | 变电站 | power room
    village_office: 村部 | 村委会 | 村委 | 居委会 | 社区服务中心 | 党群服务中心 | 社区办公室
    boiler_room: 锅炉房 | boiler room
    hall: 祠堂 | 会所 | 活动中心 | 老年活动室 | community hall
    guard_post: 岗亭 | 门岗 | 保安亭 | 保安室 | guard house
    parcels: 快递柜 | 丰巢 | 快递驿站 | 菜鸟驿站 | 驿站 | parcel lockers
    bridge: 石桥 | 桥 | bridge
    village_gate: 村口 | 进村
    fish_section: 水产区 | 卖鱼 | 海鲜区 | 鱼档
    cooked_section: 熟食区 | 卤菜 | 熟食档
    vegetable_section: 蔬菜区 | 菜档
    meat_section: 肉类区 | 猪肉区 | 肉档
    loading_area: 装卸区 | 卸货平台 | 装卸平台 | loading bay
    school: 小学 | 中学 | 学校 | 校门 | primary school | school
    kindergarten: 幼儿园 | 托儿所 | kindergarten | nursery
    clinic: 医院 | 卫生院 | 诊所 | 卫生站 | hospital | clinic
    """
)
"""Spots of which a grid has one (an estate's playground, a factory's canteen, a village's
村部): named in two reports they are one place, like a named shop."""

_CN_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def _number(text: str) -> str | None:
    """``"12"``, ``"十二"``, ``"二十三"`` → ``"12"``/``"23"``; anything else → None."""
    if text.isdigit():
        return str(int(text))
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
        return str(value)
    return "".join(str(_CN_DIGITS[ch]) for ch in text)


_NUM: Final = r"(\d{1,4}|[零〇一二两三四五六七八九十]{1,4})"
_BUILDING_RE: Final = re.compile(_NUM + r"\s*(?:号楼|号栋|栋|幢|座|号大楼|号院)")
_BUILDING_EN_RE: Final = re.compile(r"\b(?:block|building|bldg|tower|blk)\.?\s*#?(\d{1,4}|[a-h])\b")
_BUILDING_EN2_RE: Final = re.compile(r"\b(?:no\.?\s*)?(\d{1,4}|[b-h])\s*(?:block|building)\b")
_BUILDING_HASH_RE: Final = re.compile(r"(?<![\d#])(\d{1,4})\s*#")
_BUILDING_LETTER_RE: Final = re.compile(r"(?<![a-z0-9])([a-h])\s*(?:号楼|栋|幢|座|楼)")
_BUILDING_NAMED_RE: Final = re.compile(
    _NUM + r"\s*号\s*(?:宿舍楼?|厂房|仓库|车间|公寓|教学楼|办公楼)"
)
_NUMBERED_GATE_RE: Final = re.compile(_NUM + r"\s*号\s*(?:门|出入口|入口)")
_LEVEL_RE: Final = re.compile(r"(?<![a-z0-9])b([1-4])(?![0-9])|(?:负|地下)([一二三1-3])(?:楼|层)")
_VILLAGE_GROUP_RE: Final = re.compile(r"([\u4e00-\u9fff]{2})组(?![织长成合团件图员])")
_NOT_A_GROUP: Final = re.compile(r"[的在个小一二三这那每分各本该同我你他她们和与是]")
"""A village's 村民小组 (上屋组, 下湾组): a place the size of a hamlet."""
_ENTRANCE_RE: Final = re.compile(_NUM + r"\s*单元")
_HOUSE_NO_RE: Final = re.compile(
    r"(?<![月\d])(\d{1,5})\s*号(?!\s*(?:楼|栋|院|线|大楼|门|出入口|入口|宿舍|厂房|仓库|车间|公寓|"
    r"教学楼|办公楼|电梯|梯))"
)
_GATE_RE: Final = re.compile(
    r"(?<![一二三四五六七八九十\d])(东北|西北|东南|西南|东|西|南|北|前|后|正|侧|大|小|边)(?:边|面|侧)?(?:大)?"
    r"(?:门|入口|进口|出入口)"
)
_GATE_EN_RE: Final = re.compile(
    r"\b(north|south|east|west|front|back|rear|main|side)\s+(?:gate|entrance)\b"
)
_GATE_WORDS: Final = {
    "东": "east",
    "西": "west",
    "南": "south",
    "北": "north",
    "东北": "northeast",
    "西北": "northwest",
    "东南": "southeast",
    "西南": "southwest",
    "前": "main",
    "正": "main",
    "大": "main",
    "后": "back",
    "侧": "side",
    "边": "side",
    "小": "side",
    "north": "north",
    "south": "south",
    "east": "east",
    "west": "west",
    "front": "main",
    "main": "main",
    "back": "back",
    "rear": "back",
    "side": "side",
}
_ESTATE_GATE_RE: Final = re.compile(r"(?:小区|花园|大院|社区|苑|村)?门口")
_OWNER_RE: Final = re.compile(
    r"(栋|楼|座|幢|店|家|铺|厂|校|学|院|园|房|室|档|馆|站|场|市|厦|部|堂|所)$"
)
"""A bare 门口 ("at the gate"): in a residents' group it is the estate's gate; after a
building or a shop (``3栋门口``, ``店门口``) it belongs to that and is not a gate key."""

# A named road, street, lane or place: hanzi ending in one of these. The name is the run of
# hanzi before the ending, cut at words that cannot be part of a name.
_ROAD_RE: Final = re.compile(
    r"([\u4e00-\u9fff]{1,8}?)(大道|大街|胡同|路|街|巷)(?![灯面边上段旁中基牙沿坊道])"
)
_LANDMARK_RE: Final = re.compile(
    r"([\u4e00-\u9fffa-z0-9]{1,10}?)"
    r"(小学|中学|幼儿园|学校|医院|卫生院|诊所|超市|商场|酒楼|酒家|餐厅|饭店|饭馆|大排档|茶楼|火锅店|"
    r"烧烤店|面馆|粉店|奶茶店|便利店|药店|网吧|酒吧|公园|花园|大厦|广场|酒店|宾馆|银行|车站|地铁站|"
    r"公交站|加油站|菜场|小区|新村|苑|村|大院|厂|工地|店)"
)
_ESTATE_ENDINGS: Final = ("小区", "花园", "新村", "苑", "村", "大院")
"""Landmarks that are a whole estate or village: like a road, a long place."""
_NAME_CUT: Final = re.compile(
    r".*(?:街道|社区|开始|一直|现在|每天|经常|晚上|白天|早上|昨晚|今晚|昨天|今天|刚才|附近|对面|旁边|门口|"
    r"隔壁|楼下|楼上|"
    r"[的在到从往近旁边于和与跟至沿是个条这那我你他她们家前后里外上下了有把被给向说都也又就很太过看门临组不没能要想去"
    r"好啦呀吧呢啊年月日号点时分天区市镇省县,。!?:;、()\s\d])"
)
_GENERIC_NAMES: Final = frozenset(
    [
        "马",
        "道",
        "公",
        "小",
        "大",
        "一",
        "走",
        "上",
        "出",
        "回",
        "过",
        "街",
        "半",
        "同",
        "本",
        "该",
        "此",
        "各",
        "这",
        "那",
        "某",
        "附近",
        "旁边",
        "对面",
        "隔壁",
        "我们",
        "你们",
        "他们",
        "楼下",
        "楼上",
        "门口",
        "路",
        "新",
        "老",
        "这个",
        "那个",
        "这家",
        "那家",
        "一家",
        "一个",
        "烧烤",
        "火锅",
        "饭",
        "面",
        "粉",
        "奶茶",
        "便利",
        "药",
        "网",
        "酒",
        "花",
        "车",
        "地铁",
        "公交",
        "加油",
        "菜",
        "工",
        "十字",
        "丁字",
        "主",
        "支",
        "辅",
        "水泥",
        "柏油",
        "石板",
        "村",
        "乡",
        "小组",
        "一组",
        "这组",
    ]
)
"""Names that are not names: 马路, 走道, 小区, 这家店 — generic words for a kind of place."""

_EN_ROAD_RE: Final = re.compile(
    r"\b([a-z]{3,20}(?:\s[a-z]{3,20})?)\s(road|street|avenue|lane|rd|st|ave)\b"
)
_EN_ROAD_KINDS: Final = {
    "road": "rd",
    "rd": "rd",
    "street": "st",
    "st": "st",
    "avenue": "ave",
    "ave": "ave",
    "lane": "ln",
}
_EN_GENERIC: Final = frozenset(["the", "this", "that", "our", "main", "busy", "my", "a", "side"])


@dataclass(frozen=True)
class Signature:
    """What a report is about: the kinds of problem and the places named.

    ``places`` hold the named places: specific ones (``building:3``, ``gate:north``,
    ``name:宝玉直小学``, ``no:45``) that can make two reports one place, and long ones
    (``road:南华西路``, ``estate:宝玉直小区``, ``entrance:2``) that only narrow it; ``spots``
    are common nouns (``spot:garage``) that only keep different places apart.
    """

    objects: frozenset[str]
    places: frozenset[str]
    spots: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, list[str]]:
        """Stored with each report (``case_reporters.signature``)."""
        return {
            "objects": sorted(self.objects),
            "places": sorted(self.places),
            "spots": sorted(self.spots),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Signature:
        def field(name: str) -> frozenset[str]:
            value = data.get(name) or []
            return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()

        return cls(field("objects"), field("places"), field("spots"))


class Verdict(Enum):
    """How two reports relate; see :func:`compare`."""

    SAME = "same"
    LIKELY = "likely"
    MAYBE = "maybe"
    DIFFERENT = "different"


def _phrase_index(table: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    pairs = [(phrase, kind) for kind, phrases in table.items() for phrase in phrases]
    return sorted(pairs, key=lambda pair: (-len(pair[0]), pair[0]))


_OBJECT_PHRASES: Final = _phrase_index({"": _IGNORED, **OBJECTS})
_GENERIC_PHRASES: Final = _phrase_index(GENERIC)
_SPOT_PHRASES: Final = _phrase_index(_PLACE_SPOTS)
_LANDMARK_PHRASES: Final = _phrase_index(_LANDMARKS)
_ASCII_WORD: Final = re.compile(r"[a-z]")


def _find(text: str, phrases: list[tuple[str, str]]) -> set[str]:
    """Kinds whose phrases occur in ``text`` (see :func:`_scan`)."""
    return _scan(text, phrases)[0]


def _scan(text: str, phrases: list[tuple[str, str]]) -> tuple[set[str], str]:
    """Kinds whose phrases occur in ``text``, longest phrase first, and the text with every
    match blanked, so that a shorter phrase inside it ("灯" in "路灯") cannot match again."""
    found: set[str] = set()
    chars = list(text)
    flat = text
    for phrase, kind in phrases:
        start = flat.find(phrase)
        while start >= 0:
            end = start + len(phrase)
            if _ASCII_WORD.match(phrase) and not _word_bounded(flat, start, end):
                start = flat.find(phrase, start + 1)
                continue
            found.add(kind)
            for i in range(start, end):
                chars[i] = "\x00"
            flat = "".join(chars)
            start = flat.find(phrase, end)
    return found, flat


def _word_bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isascii() and before.isalnum()) and not (
        after.isascii() and after.isalnum() and after != "s"
    )


def _name(raw: str) -> str | None:
    """The name part of a road or landmark match, or None when it names nothing."""
    cut = _NAME_CUT.match(raw)
    name = raw[cut.end() :] if cut else raw
    name = name.lstrip("0123456789号栋")
    if len(name) < 2 or len(name) > 5:
        return None
    if name in _GENERIC_NAMES or name.endswith(("这", "那")):
        return None
    return name


_CONTRAST_RE: Final = re.compile(r"(?:不止|不光|不只|不单|除了|not only|besides)[^,.!?;:]{0,10}")
""""不止3栋，7栋也…": the place after 不止 is somewhere else, not where this report is."""


_NUMBERED: Final = (
    (_BUILDING_RE, "building"),
    (_BUILDING_NAMED_RE, "building"),
    (_ENTRANCE_RE, "entrance"),
    (_NUMBERED_GATE_RE, "gate"),
)
"""Places numbered in digits or Chinese numerals (三号楼, 2单元, 3号门)."""


def places_of(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Strong and weak place keys of normalised text (see :class:`Signature`)."""
    text = _CONTRAST_RE.sub(" ", text)
    places: set[str] = set()
    for pattern, kind in _NUMBERED:
        for match in pattern.finditer(text):
            number = _number(match[1])
            if number is not None:
                places.add(f"{kind}:{number}")
    for pattern in (_BUILDING_EN_RE, _BUILDING_EN2_RE, _BUILDING_HASH_RE, _BUILDING_LETTER_RE):
        for match in pattern.finditer(text):
            places.add(f"building:{int(match[1]) if match[1].isdigit() else match[1]}")
    for match in _LEVEL_RE.finditer(text):
        number = match[1] or _number(match[2])
        places.add(f"level:b{number}")
    for match in _HOUSE_NO_RE.finditer(text):
        places.add(f"no:{int(match[1])}")
    for pattern in (_GATE_RE, _GATE_EN_RE):
        for match in pattern.finditer(text):
            places.add(f"gate:{_GATE_WORDS[match[1]]}")
    if not any(key.startswith("gate:") for key in places):
        for match in _ESTATE_GATE_RE.finditer(text):
            before = text[max(0, match.start() - 2) : match.start()]
            owned = _OWNER_RE.search(before)
            if not owned or match[0] != "门口":
                places.add("gate:main")
    for match in _ROAD_RE.finditer(text):
        name = _name(match[1])
        if name is not None:
            places.add(f"road:{name}{match[2]}")
    for match in _LANDMARK_RE.finditer(text):
        name = _name(match[1])
        if name is not None:
            kind = "estate" if match[2] in _ESTATE_ENDINGS else "name"
            places.add(f"{kind}:{name}{match[2]}")
    for match in _EN_ROAD_RE.finditer(text):
        words = [w for w in match[1].split() if w not in _EN_GENERIC]
        if words:
            places.add(f"road:{' '.join(words)} {_EN_ROAD_KINDS[match[2]]}")
    for match in _VILLAGE_GROUP_RE.finditer(text):
        if not _NOT_A_GROUP.search(match[1]):
            places.add(f"name:{match[1]}组")
    places.update(f"at:{kind}" for kind in _find(text, _LANDMARK_PHRASES))
    spots = {f"spot:{kind}" for kind in _find(text, _SPOT_PHRASES)}
    return frozenset(places), frozenset(spots)


def signature(text: str) -> Signature:
    """The :class:`Signature` of a raw report."""
    norm = fold_cantonese(normalize(text))
    places, spots = places_of(norm)
    objects, rest = _scan(norm, _OBJECT_PHRASES)
    objects.discard("")  # the ignored phrases
    if not objects:
        objects = _find(rest, _GENERIC_PHRASES)
    return Signature(frozenset(objects), places, spots)


_EXCLUSIVE: Final = ("building", "gate", "entrance", "no", "level")
"""Place kinds of which one report names one: two different values are two places."""


def _values(keys: frozenset[str], kind: str) -> frozenset[str]:
    prefix = kind + ":"
    return frozenset(key for key in keys if key.startswith(prefix))


def same_place(a: Signature, b: Signature) -> bool | None:
    """True: the two name the same place; False: they name different places; None: they
    cannot be told (one names no place, or what they name does not overlap)."""
    for kind in _EXCLUSIVE:
        va, vb = _values(a.places, kind), _values(b.places, kind)
        if va and vb and not va & vb:
            return False
        if va != vb and va & vb and max(len(va), len(vb)) > 1:
            return None  # "3栋和7栋的灯都不亮" beside "3栋的灯": which one is meant?
    if a.spots and b.spots and not a.spots & b.spots:
        return False
    for kind in ("name", "at"):
        va, vb = _values(a.places, kind), _values(b.places, kind)
        if va and vb and not va & vb:
            return False
    for kind in ("road", "estate"):
        va, vb = _values(a.places, kind), _values(b.places, kind)
        if va and vb and not va & vb:
            return False
    shared = a.places & b.places
    # A shared road or estate alone is a long place: the same fault on one road may be two
    # street lights a kilometre apart. It makes one place only together with something
    # specific both name alike (a building, a gate, a house number, a named shop).
    if any(not key.startswith(("road:", "estate:", "entrance:", "level:")) for key in shared):
        return True
    return None


def _stands_for(x: str, y: str) -> bool:
    """``x`` and ``y`` may name one thing: equal, or one a generic word for the other."""
    return x == y or y in FAMILIES.get(x, ()) or x in FAMILIES.get(y, ())


def _vague(kinds: frozenset[str]) -> bool:
    """Only generic words (a report names them only when it names nothing specific)."""
    return all(kind in FAMILIES for kind in kinds)


def _companions(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a & b) and any(a | b <= group for group in COMPANIONS)


def objects_match(a: frozenset[str], b: frozenset[str]) -> Verdict:
    """``SAME``: one kind of problem named alike; ``LIKELY``: one kind named in other words
    (a generic word, or kinds named together for one problem); ``MAYBE``: one names another
    problem besides; ``DIFFERENT``: nothing in common."""
    vague_a, vague_b = _vague(a), _vague(b)
    if a == b:
        return Verdict.LIKELY if vague_a else Verdict.SAME  # "那盏灯" twice: which lamp?
    if vague_a or vague_b:
        # A report naming only generic words: the other's kinds must each be one it may
        # mean (its other generic words are context: 烧烤摊 in "烧烤摊又在冒烟").
        if vague_a and vague_b:
            return Verdict.LIKELY if a & b else Verdict.DIFFERENT
        vague, exact = (a, b) if vague_a else (b, a)
        if all(any(_stands_for(x, y) for x in vague) for y in exact):
            return Verdict.LIKELY
        return (
            Verdict.MAYBE
            if any(_stands_for(x, y) for x in vague for y in exact)
            else (Verdict.DIFFERENT)
        )
    covered = all(any(_stands_for(x, y) for y in b) for x in a) and all(
        any(_stands_for(y, x) for x in a) for y in b
    )
    if covered or _companions(a, b):
        return Verdict.LIKELY
    if any(_stands_for(x, y) for x in a for y in b):
        return Verdict.MAYBE
    return Verdict.DIFFERENT


def compare(
    a: Signature,
    b: Signature,
    *,
    near: bool | None = None,
) -> Verdict:
    """Whether ``a`` and ``b`` are the same problem at the same place.

    ``near`` is what the reports' map locations say, when both carry one: True within the
    policy's radius, False beyond it, None when either has none. A location is better
    evidence than words, so it decides the place when present.

    ``SAME`` needs one problem named alike at one place; ``LIKELY`` is one place and a
    problem named in other words ("那盏灯" beside "路灯不亮"), which merges only when no
    other open case could be meant (:func:`handlers.merge.pick`).
    """
    if not a.objects or not b.objects:
        return Verdict.MAYBE if (a.places & b.places or near) else Verdict.DIFFERENT
    problem = objects_match(a.objects, b.objects)
    if problem is Verdict.DIFFERENT:
        return Verdict.DIFFERENT
    place = near if near is not None else same_place(a, b)
    if place is False:
        return Verdict.DIFFERENT
    if not place or problem is Verdict.MAYBE:
        return Verdict.MAYBE
    return problem

"""The hand-written lexicon behind the rule-based classifier.

Entries are written the way residents write: simplified and traditional Chinese, Cantonese
(冇、嘅、喺、咗、唔该、搞掂、水浸、跳掣), and English. Every entry goes through the same
normalisation as the messages (see :mod:`triage.normalize`), so a traditional entry and its
simplified twin collapse into one and either spelling in a message finds it.

Matching takes the longest phrase first and a character is used by one phrase only, so a
specific phrase (电动车充电, fire exit, 唔该晒) shadows the shorter words inside it (电动车,
fire, 唔该). That is how the lexicon says "this word means something else in this phrase"
without any extra rule; guards below are phrases that exist only to shadow a cue.

Weights: 4-5 a phrase that alone settles the category; 3 a strong, specific word; 2 a
common word that leans one way; 1 context that only helps break ties. English words also
match their plural with a trailing ``s``.
"""

from __future__ import annotations

from typing import Final

from triage.categories import Category

FIRE: Final = "119"
POLICE: Final = "110"
AMBULANCE: Final = "120"


def _by_weight(groups: dict[float, tuple[str, ...]]) -> dict[str, float]:
    """Flatten ``{weight: phrases}``: grouping by weight keeps a long lexicon reviewable."""
    flat: dict[str, float] = {}
    for weight, phrases in groups.items():
        for phrase in phrases:
            flat[phrase] = max(weight, flat.get(phrase, 0.0))
    return flat


CATEGORY_KEYWORDS: Final[dict[Category, dict[str, float]]] = {
    Category.CITY_MANAGEMENT: _by_weight({
        4: ("垃圾没人清", "垃圾冇人清", "垃圾没人收", "垃圾堆积", "垃圾桶爆", "垃圾桶满",
            "乱扔垃圾", "乱丢垃圾", "乱抛垃圾", "亂拋垃圾", "占道经营", "illegal dumping",
            "overflowing bin", "construction waste"),
        3: ("垃圾堆", "建筑垃圾", "大件垃圾", "餐厨垃圾", "垃圾站", "乱摆卖", "摆卖", "摆摊",
            "乱摆摊", "摆档", "流动摊贩", "摊贩", "小贩", "走鬼", "违建", "违章建筑", "违法建设",
            "乱搭建", "乱搭乱建", "僭建", "小广告", "牛皮癣", "乱贴", "乱涂乱画", "乱堆放",
            "城管", "市容", "狗屎", "狗粪", "宠物粪便", "遛狗不拴绳",
            "litter", "littering", "fly-tipping", "flytipping", "street vendor", "hawker",
            "illegal construction", "illegal structure", "graffiti", "flyposting",
            "fly-posting", "dog poop", "dog mess", "dog poo"),
        2: ("垃圾", "垃圾桶", "清运", "垃圾分类", "涂鸦", "张贴", "广告牌", "乱堆", "加建",
            "环卫", "招牌", "户外广告", "无证经营",
            "rubbish", "garbage", "trash", "bin", "dumping", "dumped", "vendor", "posters",
            "waste"),
        1: ("杂物", "清扫", "落叶", "横幅", "搭建", "stall"),
    }),
    Category.PUBLIC_SECURITY: _by_weight({
        4: ("邻里纠纷", "家庭暴力", "寻衅滋事", "domestic violence"),
        3: ("吵架", "争吵", "打架", "斗殴", "打人", "打交", "嗌交", "闹事", "可疑", "形迹可疑",
            "小偷", "偷窃", "被偷", "偷东西", "偷嘢", "盗窃", "失窃", "爆窃", "撬门", "撬锁",
            "诈骗", "被骗", "骗子", "骗钱", "呃钱", "传销", "赌博", "聚赌", "吸毒", "贩毒",
            "卖淫", "治安", "调解", "家暴", "持刀", "砍人", "抢劫", "抢东西", "醉酒闹事", "偷拍",
            "失踪", "上访",
            "fight", "fighting", "quarrel", "dispute", "theft", "stolen", "thief", "burglary",
            "burglar", "break-in", "robbery", "robbed", "scam", "scammed", "fraud",
            "suspicious", "gambling", "drugs", "mediation", "knife", "missing person",
            "assault"),
        2: ("纠纷", "矛盾", "陌生人", "报警", "派出所", "民警", "威胁", "恐吓", "骚扰", "跟踪",
            "走失", "刷单", "聚集",
            "argument", "stranger", "harassment", "harassing", "drunk", "police",
            "threatening"),
    }),
    Category.SAFETY: _by_weight({
        4: ("堵塞消防通道", "占用消防通道", "消防通道被堵", "火灾隐患", "电动车充电", "电瓶车充电",
            "飞线充电", "电动车上楼", "楼道堆放杂物", "楼道堆放", "易燃易爆", "燃气泄漏",
            "煤气泄漏", "煤气味", "燃气味", "石屎剥落",
            "fire hazard", "e-bike charging", "ebike charging", "charging e-bike",
            "scooter charging", "gas leak", "gas smell", "smell of gas", "smells of gas",
            "blocked fire exit"),
        3: ("消防", "消防通道", "消防栓", "灭火器", "安全出口", "逃生通道", "安全隐患", "煤气",
            "燃气", "液化气", "煤气罐", "煤气瓶", "漏气", "倒塌", "塌了", "塌咗", "坍塌",
            "摇摇欲坠", "外墙脱落", "高空坠物", "高空抛物", "工地", "施工安全", "脚手架", "塔吊",
            "安全生产", "易燃", "危险品", "烟花爆竹", "三小场所", "电线老化", "私拉电线",
            "乱拉电线", "烟管", "消防设施", "火灾", "着火", "起火", "失火", "火烛", "触电",
            "fire exit", "fire escape", "blocked exit", "emergency exit", "fire extinguisher",
            "fire door", "smell gas", "collapse", "collapsed", "collapsing", "construction site",
            "building site", "scaffolding", "exposed wires", "live wire"),
        2: ("隐患", "堆放杂物", "危房", "脱落", "烟囱", "鞭炮", "防火", "冒烟", "浓烟", "漏电",
            "烟味", "电线", "塌陷", "群租", "电动车", "电瓶车",
            "e-bike", "ebike", "hazard", "unsafe", "dangerous", "fire", "smoke", "wires", "gas",
            "flames", "smoking"),
        1: ("楼道", "充电", "危险", "安全", "烟", "stairwell", "corridor"),
    }),
    Category.ENVIRONMENT: _by_weight({
        4: ("油烟扰民", "噪音扰民", "装修噪音", "施工噪音", "露天焚烧", "burning rubbish",
            "burning garbage", "burning trash", "cooking fumes"),
        3: ("噪音", "噪声", "嘈吵", "广场舞", "夜间施工", "晚上施工", "半夜施工", "油烟", "异味",
            "臭味", "恶臭", "污水", "排污", "偷排", "直排", "污染", "水污染", "河涌", "黑臭",
            "粉尘", "扬尘", "空气污染", "废气", "焚烧", "烧垃圾", "烧嘢", "炸街",
            "noise", "noisy", "fumes", "stink", "stinks", "odour", "odor", "sewage", "pollution",
            "polluted", "dust"),
        2: ("扰民", "很吵", "太吵", "好吵", "吵闹", "吵死", "好嘈", "嘈", "好臭", "很臭",
            "灰尘", "河道", "烧东西", "尾气", "排放", "环保", "乱砍树", "鸣笛",
            "loud", "smell", "smelly", "dusty", "river", "dirty water", "burning", "exhaust"),
        1: ("臭", "吵", "music"),
    }),
    Category.MUNICIPAL: _by_weight({
        4: ("路灯不亮", "路灯坏", "路面塌陷", "道路破损", "排水不畅", "水管爆", "爆水管",
            "street light broken", "burst pipe", "blocked drain", "power cut", "power outage",
            "no electricity"),
        3: ("路灯", "街灯", "井盖", "沙井", "沙井盖", "窨井", "下水道", "排水", "排水沟", "渠塞",
            "塞渠", "水浸", "浸水", "积水", "内涝", "水淹", "淹水", "被淹", "坑洼", "停水", "水压",
            "自来水", "停电", "断电", "跳闸", "跳掣", "电压", "电压低", "供电", "供水", "变压器",
            "street light", "streetlight", "street lamp", "lamp post", "pothole", "manhole",
            "drain", "drainage", "flooding", "flooded", "flood", "waterlogged", "blackout",
            "no power", "no water", "water supply", "water pressure", "voltage"),
        2: ("路面", "人行道", "没水", "冇水", "没电", "冇电", "用电", "电力", "增容", "电箱",
            "电线杆", "水管", "护栏", "公厕", "公共厕所", "化粪池", "污水管", "塌陷",
            "pavement", "sidewalk", "tripped", "breaker", "public toilet", "railing"),
        1: ("水泵", "马路", "道路", "桥", "围栏", "渠", "路口", "road"),
    }),
    Category.TRAFFIC: _by_weight({
        4: ("僵尸车", "废弃车辆", "废弃车", "弃置车辆", "电动车乱停", "单车乱停", "占道停车",
            "illegal parking", "illegally parked", "abandoned car", "abandoned vehicle",
            "double parked"),
        3: ("长期停放", "违停", "违章停车", "乱停", "乱停车", "乱停乱放", "乱停放", "违泊",
            "违例泊车", "泊车", "车泊", "堵车", "塞车", "拥堵", "红绿灯", "信号灯", "交通灯",
            "共享单车",            "泥头车", "飙车", "超速", "车祸", "撞车", "交通事故",
            "traffic light", "crash", "car accident", "traffic jam", "congestion",
            "shared bikes", "speeding"),
        2: ("停车", "车停", "泊咗", "车位", "停车位", "交通", "单车", "摩托车", "公交", "公交车",
            "公交站",            "巴士", "的士", "出租车", "交警", "斑马线", "掉头",
            "parked", "parking", "traffic", "bus stop", "bikes", "zebra crossing", "accident"),
        1: ("车", "车辆", "停放", "自行车", "地铁", "占道", "电动车",
            "car", "vehicle", "bus", "crossing"),
    }),
    Category.HOUSING: _by_weight({
        4: ("加装电梯", "楼上漏水", "天花漏水", "水管漏水", "冷气机滴水", "空调滴水", "墙体开裂",
            "lift retrofit", "install a lift", "installing a lift", "property management"),
        3: ("物业", "物业管理", "物业费", "业委会", "业主委员会", "渗水", "出租屋", "房东",
            "群租房", "劏房", "保障房", "公租房", "廉租房", "电梯坏",
            "landlord", "leaking", "subdivided flat", "estate management", "building repair"),
        2: ("管理处", "业主", "法团", "天花板", "墙身", "开裂", "裂缝", "房屋", "危房", "租房",
            "租客", "押金", "房租", "外墙", "防水", "门禁", "天台",
            "tenant", "rent", "ceiling", "crack", "management office", "deposit"),
        2.5: ("电梯", "升降机", "𨋢", "漏水", "lift", "elevator", "leak", "leaks"),
        1.5: ("维修", "住房", "装修", "楼梯"),
        1: ("小区", "楼宇", "楼房", "公寓", "屋苑"),
    }),
    Category.LIVELIHOOD: _by_weight({
        4: ("拖欠工资", "欠薪", "欠工资", "欠粮", "讨薪", "劳动纠纷", "劳动仲裁", "工资没发",
            "工资冇发", "unpaid wages", "unpaid salary", "wages not paid"),
        3: ("劳资", "社保", "医保", "养老金", "退休金", "低保", "最低生活保障", "困难户", "残疾",
            "残疾人", "孤寡老人", "独居老人", "独居长者", "养老", "找工作", "就业", "失业",
            "求职", "综援", "生果金", "贫困", "留守儿童", "助餐", "长者饭堂", "拖欠",
            "wages", "pension", "social insurance", "allowance", "disability", "disabled",
            "unemployed", "looking for work", "unpaid", "hasn't paid", "haven't paid",
            "not been paid"),
        2.5: ("工资", "补贴", "补助", "津贴", "salary", "elderly"),
        2: ("救助", "长者", "老人", "老年人", "老人家", "托管", "孤儿", "殡葬", "没人照顾",
            "冇人照顾", "old man", "old lady", "old people", "job", "benefits", "not paid",
            "employer"),
        1.5: ("困难", "护理", "招聘"),
        1: ("照顾", "儿童", "care"),
    }),
    Category.PUBLIC_HEALTH: _by_weight({
        4: ("登革热", "食物中毒", "死老鼠", "dengue", "food poisoning", "pest control"),
        3: ("老鼠", "鼠患", "蟑螂", "曱甴", "蚊子", "蚊虫", "臭虫", "虫害", "灭鼠", "灭蚊", "消杀",
            "疫情", "传染", "传染病", "核酸", "隔离", "疫苗", "流感", "新冠", "狂犬", "急救",
            "救护车", "晕倒", "昏迷",
            "rat", "mice", "cockroach", "cockroaches", "roach", "mosquito", "mosquitoes",
            "pests", "bed bugs", "epidemic", "infectious", "covid", "quarantine", "vaccine",
            "ambulance", "unconscious", "fainted", "stray dog", "dog bite", "bitten"),
        2: ("蚊", "苍蝇", "白蚁", "发烧", "发热", "肺炎", "病人", "卫生站", "诊所", "医院", "看病",
            "鸽子", "鸽粪", "流浪狗", "受伤", "流血", "咬伤", "卫生差", "摔倒", "跌倒",
            "mouse", "flies", "fever", "unhygienic", "injured", "bleeding", "clinic",
            "hospital"),
        1.5: ("卫生", "hygiene"),
    }),
    Category.ENTERPRISE: _by_weight({
        5: ("人才住房", "人才公寓", "人才安居", "talent housing", "talent apartment"),
        4: ("营业执照", "食品安全", "食品过期", "过期食品", "缺斤短两", "投诉商家", "营商环境",
            "用电增容", "电力增容", "staff housing", "food safety", "expired food"),
        3: ("企业", "变质", "乱收费", "涨价", "宰客", "假货", "假冒", "伪劣", "消费者", "商家",
            "招商", "税务", "融资", "市场监管",
            "licence", "license", "expired", "overcharging", "overcharged", "counterfeit"),
        2: ("公司", "人才", "执照", "许可证", "办证", "过期", "发霉", "餐厅", "餐馆", "饭店",
            "食堂", "无证", "价格", "商户", "店铺", "贷款", "增容", "厂房", "园区", "写字楼",
            "药店", "超市", "菜市场",
            "business", "company", "permit", "restaurant", "price", "prices", "fake"),
        1.5: ("外卖", "收费", "老板", "shop", "firm"),
        1: ("员工", "employees", "staff"),
    }),
}
"""Category -> {phrase: weight}. A phrase may appear under several categories."""

CATEGORY_GUARDS: Final[tuple[str, ...]] = (
    "渠道", "车间", "车厘子", "火车", "电车", "下车", "上车", "汽车站", "有没有", "安全感",
    "老板娘", "隔离屋", "隔离邻", "隔离家", "住隔离", "隔离座", "隔离单位", "隔离间", "隔离位",
    "care about", "take care", "fire him", "fired",
)
"""Phrases that count for nothing and only hide the category words inside them
(渠道 is a channel, not a drain; 车间 a workshop, not a vehicle)."""


URGENT_CUES: Final[dict[str, str]] = {
    # fire and smoke
    **dict.fromkeys(("着火", "著火", "起火", "失火", "火灾", "冒烟", "浓烟", "烧起来", "火烛",
                     "火警", "好大烟", "好多烟", "很多烟", "烟好大", "烟很大", "fire", "on fire",
                     "smoke", "flames", "blaze"), FIRE),
    # gas
    **dict.fromkeys(("煤气味", "燃气味", "煤气泄漏", "燃气泄漏", "煤气漏", "燃气漏", "漏煤气",
                     "gas leak", "gas smell", "smell of gas", "smells of gas", "smell gas"),
                    FIRE),
    # collapse
    **dict.fromkeys(("倒塌", "塌了", "坍塌", "塌咗", "塌下来", "collapse", "collapsed",
                     "collapsing"), FIRE),
    # live wires
    **dict.fromkeys(("电线掉", "电线断", "电线掉落", "漏电", "电线冒火花", "live wire",
                     "wires down", "sparking"), FIRE),
    # trapped (by flood, in a lift, in a fire)
    **dict.fromkeys(("被困", "困住", "困在电梯", "困在里面", "困在水里", "电梯困人", "困𨋢",
                     "困lift", "trapped", "stuck in the lift",
                     "stuck in the elevator", "stuck in a lift"), FIRE),
    # violence and crime in progress
    **dict.fromkeys(("打人", "打架", "斗殴", "打交", "持刀", "拿刀", "砍人", "抢劫", "行凶",
                     "杀人", "绑架", "撬门", "撬锁", "家暴", "救命", "fight", "fighting",
                     "stabbing", "stabbed", "knife", "robbery", "assault", "attacked",
                     "burglar"), POLICE),
    # injury and medical
    **dict.fromkeys(("受伤", "流血", "晕倒", "昏迷", "不省人事", "骨折", "摔倒", "跌倒",
                     "咬伤", "抽搐", "中毒", "触电", "心脏病", "急救", "injured", "injury",
                     "bleeding", "unconscious", "fainted", "heart attack", "not breathing",
                     "ambulance"), AMBULANCE),
}
"""Phrase -> emergency number to suggest. Any unnegated cue makes the message urgent."""

URGENT_GUARDS: Final[tuple[str, ...]] = (
    "fire exit", "fire escape", "fire door", "fire hazard", "fire safety", "fire extinguisher",
    "fire hydrant", "fire drill", "fire lane", "fire risk", "fire inspection", "fire-exit",
    "fire alarm", "smoke alarm", "smoke detector", "cigarette smoke", "fire fighting",
    "火灾隐患", "防止火灾", "预防火灾", "火灾风险", "防火", "漏电保护", "防漏电",
    "倒塌风险", "倒塌隐患", "塌陷风险", "防止摔倒", "防跌倒",
)
"""Phrases that contain an urgent cue but describe a risk or a thing, not an emergency."""

NEGATIONS: Final[tuple[str, ...]] = (
    "没有", "没", "冇", "无", "未", "不是", "并非", "没有人", "没人", "无人", "冇人", "唔系",
)
"""Chinese immediately before an urgent cue that cancels it (无人被困, 没有着火)."""

NEGATION_WORDS: Final[tuple[str, ...]] = (
    "no", "not", "nobody", "no one", "never", "without", "isn't", "wasn't", "aren't",
)
"""English before an urgent cue, at most one word away, that cancels it (no smoke,
nobody was injured)."""

LOW_CUES: Final[tuple[str, ...]] = (
    "建议", "咨询", "请问", "想问", "想问下", "想咨询", "问一下", "问下", "想了解", "了解一下",
    "请教", "提议", "能不能", "可不可以", "可唔可以", "有冇", "点样", "是否可以", "麻烦问",
    "希望能", "希望可以", "怎么办理", "如何办理", "怎样办理", "点样办", "怎么申请", "如何申请",
    "suggest", "suggestion", "enquiry", "inquiry", "would it be possible", "is it possible",
    "may i ask", "can i ask", "just wondering", "how do i", "how can i", "where can i",
    "advice",
)
"""Questions and suggestions: worth filing, not worth the fast lane."""

COMPLAINT_CUES: Final[tuple[str, ...]] = (
    "坏了", "坏掉", "坏咗", "损坏", "破了", "烂了", "漏", "堵", "堵住", "堵塞", "没人管",
    "没人处理", "无人处理", "无人管", "冇人理", "冇人管", "冇人清", "没人清理", "没人理",
    "没人收", "投诉", "举报", "反映", "求助", "帮忙", "帮手", "麻烦", "处理一下", "处理下",
    "怎么办", "点算", "谁来负责", "谁负责", "谁管", "报修", "有问题", "严重", "很久", "好久",
    "好几天", "几天了", "一直", "多次", "唔该", "搞掂", "快点", "赶紧", "尽快", "马上",
    "受不了", "顶唔顺", "影响", "不亮", "不通", "不能用", "用不了", "没法", "想想办法",
    "没解决", "未解决", "还没解决", "没有解决", "冇解决", "没修好", "未修好", "又坏",
    "broken", "not working", "doesn't work", "does not work", "complain", "complaint",
    "report", "please fix", "fix", "help", "nobody", "no one", "for days", "for weeks",
    "urgent", "asap", "not fixed", "still not",
)
"""Words that say "something is wrong and someone should act", whatever the category."""

GREETING_CUES: Final[tuple[str, ...]] = (
    "你好", "您好", "大家好", "早上好", "早安", "上午好", "中午好", "下午好", "晚上好", "晚安",
    "早晨", "新年快乐", "节日快乐", "中秋快乐", "恭喜发财", "生日快乐",
    "hi", "hello", "hey", "good morning", "good afternoon", "good evening", "good night",
    "happy new year",
)
THANKS_CUES: Final[tuple[str, ...]] = (
    "谢谢", "多谢", "感谢", "唔该晒", "唔该哂", "辛苦了", "辛苦晒", "辛苦哂", "点赞", "给力",
    "太好了", "thanks", "thank you", "thx", "cheers", "appreciate",
)
ACK_CUES: Final[tuple[str, ...]] = (
    "收到", "好的", "好嘅", "明白", "知道了", "ok", "okay", "嗯", "没问题", "冇问题",
    "noted", "got it", "roger",
)
JOKE_CUES: Final[tuple[str, ...]] = (
    "哈哈", "呵呵", "嘻嘻", "笑死", "搞笑", "lol", "haha", "hehe", "lmao", "2333", "666",
)
AD_CUES: Final[tuple[str, ...]] = (
    "加微信", "加我微信", "加v", "加vx", "微信号", "优惠", "代购", "兼职", "日赚", "日结",
    "招代理", "免费领", "领取", "扫码", "二维码", "点击链接", "促销", "特价", "低价", "团购",
    "秒杀", "返利", "砍一刀", "投资理财", "稳赚",
    "promotion", "promo", "discount", "buy now", "click here", "free gift", "dm me",
)
RESOLVED_CUES: Final[tuple[str, ...]] = (
    "修好了", "已修好", "修好咗", "已经修好", "已处理", "已经处理", "处理好了", "解决了",
    "已解决", "搞掂咗", "搞定了", "恢复了", "已恢复", "来电了", "有电了",
    "fixed", "resolved", "sorted", "working again", "back on",
)
"""Feedback that a problem is gone: a thank-you note, not a new report."""

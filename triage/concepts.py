"""Concepts: groups of words that mean the same thing to a grid worker, in every way of writing.

A corpus of some hundreds of messages per category cannot show every word a resident will
use: the model sees "老鼠" in training and meets "曱甴", "rats" or "鼠患" in the chat. The
concepts below fold such words into one feature each (``K:pests``), so that what the model
learns from one spelling carries over to the others. Unlike the category lexicon in
:mod:`triage.keywords`, a concept says nothing about which category it belongs to: the
model learns that from the corpus, so a concept may lean to two categories (``leak`` is
housing indoors and municipal in the street) or to a priority (``hurry``, ``danger``).

Phrases are written in simplified Chinese, Cantonese and English; traditional spellings
are folded by :mod:`triage.normalize`, and English words also match their plural.
Matching is longest first and each character belongs to one phrase, as everywhere in triage.
"""

from __future__ import annotations

from typing import Final

# fmt: off
CONCEPTS: Final[dict[str, tuple[str, ...]]] = {
    # --- city management -----------------------------------------------------------
    "litter": (
        "垃圾", "乱扔", "乱丢", "乱抛", "乱倒", "扔了", "丢了一地", "一地都系", "满地",
        "饮料瓶", "外卖盒", "饭盒", "竹签", "泡沫盒", "烟头", "纸皮", "纸箱", "杂物", "废品",
        "废料", "旧家具", "旧床垫", "床垫", "大件", "回收点", "收废品", "垃圾桶", "垃圾站",
        "清运", "环卫", "冇人清", "没人清", "没人收", "冇人收", "litter", "rubbish", "trash",
        "garbage", "bin", "mattress", "cardboard", "recycling", "junk", "dumped", "dumping",
        "fly-tipping", "waste",
    ),
    "street_trading": (
        "摆摊", "摆卖", "小摊", "摊档", "摊位", "走鬼", "小贩", "摊贩", "卖菜", "卖水果",
        "卖炒粉", "推车卖", "三轮车", "占道", "霸路", "霸晒", "出店经营", "摆到路上", "摆桌",
        "摆台", "桌椅", "门口摆", "摆位", "夜市", "大排档", "烧烤摊", "hawker", "vendor",
        "street stall", "selling on the", "tables on the", "tables out", "skewers",
        "night market",
    ),
    "pavement": ("人行道", "行人路", "骑楼", "路边", "马路边", "pavement", "sidewalk"),
    "illegal_building": (
        "违建", "违章", "搭建", "加建", "搭棚", "铁皮棚", "铁皮房", "棚子", "加层", "加了一层",
        "僭建", "封阳台", "外扩", "圈起来", "围起来", "占为己有", "改建", "天台屋", "搭了",
        "审批", "铁闸", "illegal structure", "illegal construction", "shed", "extension",
        "extra room", "built a", "building an",
    ),
    "flyposting": (
        "小广告", "牛皮癣", "贴纸", "贴满", "贴广告", "乱贴", "派卡", "卡片", "传单", "喷漆",
        "喷了", "涂鸦", "乱涂", "乱画", "办证", "高价收", "高价回收", "电话号码", "公告栏",
        "sticker", "flyer", "graffiti", "spray paint", "spray-painted", "sprayed", "poster",
        "leaflet", "painted",
    ),
    "pets_fouling": (
        "狗屎", "狗粪", "狗尿", "小便", "随地大小便", "遛狗", "拴绳", "狗绳", "宠物", "dog poo",
        "dog poop", "dog mess", "leash", "pee",
    ),
    "greenery": (
        "绿化带", "花坛", "种菜", "开荒", "毁绿", "草地", "花槽", "green belt", "flower bed",
    ),
    "signboard": (
        "立牌", "招牌", "气球拱门", "广告牌", "横幅", "灯箱", "sign board", "billboard",
        "banner",
    ),
    # --- public security --------------------------------------------------------------
    "fraud": (
        "兼职", "身份证", "神算", "算命", "化解", "免费领", "讲座", "欠债还钱", "loan", "links",
        "骗", "诈骗", "被骗", "骗子", "骗钱", "冒充", "假冒", "假装", "呃", "呃钱", "中招",
        "安全账户", "洗钱", "转账", "验证码", "刷单", "养老投资", "高回报", "年化", "保本",
        "中奖", "保健品", "反诈", "退款链接", "理赔", "scam", "fraud", "fake", "pretending",
        "impersonat", "phishing", "pin", "bank officer", "con man", "swindle",
    ),
    "theft": (
        "车窗被砸", "砸了车窗", "被拿走", "wallet", "snatch", "偷", "被偷", "小偷", "扒手",
        "盗", "偷窃", "撬门", "撬锁", "撬开", "入屋", "爆窃", "顺手牵羊", "不见了", "畀人偷",
        "stolen", "steal", "theft", "thief", "pickpocket", "burglary", "break-in", "broke in",
    ),
    "robbery": (
        "抢", "抢劫", "抢了", "抢咗", "被抢", "飞车抢", "robbed", "robbery", "snatched",
        "mugged",
    ),
    "quarrel": (
        "吵架", "吵起来", "对骂", "骂人", "叫骂", "嗌交", "争吵", "吵完架", "纠纷", "矛盾",
        "闹事", "冲突", "调解", "协调", "扯皮", "拍台拍凳", "嗌", "argument", "arguing",
        "quarrel", "dispute", "shouting", "yelling", "mediation", "mediate",
    ),
    "violence": (
        "打得", "打到", "公婆打", "打老婆", "打架", "打交", "打人", "动手", "推搡", "扭打",
        "打起来", "打紧", "围住打", "砸东西", "砸", "掟", "凳子", "菜刀", "刀", "持刀", "家暴",
        "打我", "殴打", "威胁", "恐吓", "fight", "fighting", "hitting", "punch", "shoving",
        "kicking", "threatening", "knife", "assault", "beating",
    ),
    "suspicious": (
        "无人机", "拍照", "drone", "taking photos", "可疑", "陌生人", "陌生男人", "尾随",
        "跟踪", "盯着", "徘徊", "鬼鬼祟祟", "偷拍", "形迹", "睡了好几天", "不知道是什么人",
        "好心惊", "好怕", "害怕", "suspicious", "stranger", "following", "lurking", "staring",
        "hanging around", "watching the",
    ),
    "vice": (
        "赌", "赌博", "赌档", "赌钱", "麻雀馆", "开台", "下注", "吸毒", "针筒", "锡纸", "毒品",
        "卖淫", "电子烟", "黄赌毒", "gambling", "drugs", "needle", "syringe", "vape", "vapes",
    ),
    "police": ("报警", "派出所", "警察", "公安", "差佬", "110", "police", "cops"),
    "security_patrol": (
        "监控", "摄像头", "巡逻", "保安", "治安", "cctv", "patrol", "security guard",
    ),
    # --- safety ------------------------------------------------------------------------
    "fire_route": (
        "锁死", "走唔到", "堵死", "出口", "婴儿车", "担架", "exit", "fire drill", "消防通道",
        "消防栓", "灭火器", "烟感", "喷淋", "安全出口", "疏散", "逃生", "走火通道", "应急灯",
        "防火门", "消防", "排烟", "烟感器", "报警器", "fire exit", "fire escape",
        "extinguisher", "smoke detector", "sprinkler", "escape route", "fire door",
        "emergency light", "fire alarm",
    ),
    "ebike_charging": (
        "充电柜", "拎上屋企充", "电动车充电", "电瓶车", "飞线充电", "拉线充电", "电池", "充电",
        "鼓包", "电单车电池", "e-bike", "ebike", "battery", "charging", "scooter battery",
    ),
    "gas": (
        "燃气表", "gas meter", "煤气", "燃气", "液化气", "石油气", "气罐", "煤气罐", "气瓶",
        "乙炔", "煤气炉", "lpg", "gas cylinder", "gas bottle", "propane",
    ),
    "flammables": (
        "火水", "稀释剂", "油漆", "明火", "paint tins", "kerosene", "易燃", "汽油", "打火机",
        "泡沫塑料", "纸皮堆", "散装汽油", "油漆桶", "烟花", "炮仗", "蜡烛", "烧纸", "烧纸钱",
        "熄火", "唔记得熄火", "petrol", "gasoline", "flammable", "jerry can", "fireworks",
        "candle",
    ),
    "wiring": (
        "电磁炉", "插线板", "烫手", "拉的", "临时拉", "电线老化", "私拉电线", "乱拉电线",
        "乱拉", "插座", "配电房", "电箱", "电表箱", "打火花", "火花", "冒火花", "焦味", "烧焦",
        "燶", "噼啪", "短路", "电线", "spark", "sparks", "wiring", "junction box",
        "burning smell", "short circuit", "cable",
    ),
    "building_site": (
        "工地", "地盘", "脚手架", "基坑", "围挡", "围板", "安全帽", "安全绳", "高空作业",
        "塔吊", "施工", "烧焊", "电焊", "防护网", "scaffolding", "harness", "construction site",
        "building site", "crane", "pit", "welding", "workers",
    ),
    "structural_danger": (
        "围墙", "高空抛物", "扔下来", "from upstairs", "倾斜", "斜了", "越来越斜", "裂缝",
        "开裂", "裂了", "危房", "摇摇欲坠", "随时会倒", "快倒了", "掉落", "掉下来", "跌落嚟",
        "跌落", "砸到", "砸中", "悬在半空", "吊吊扔", "冧", "塌", "松脱", "松了", "支架",
        "生锈", "leaning", "crack", "cracked", "falling", "fell", "loose", "hanging by",
        "give way", "collapse",
    ),
    "paint": ("喷漆", "喷油", "油漆味", "稀释剂", "spray-paint", "spray-painting", "paint smell"),
    "workshop": (
        "小作坊", "作坊", "三小场所", "仓库", "车库", "住人", "三合一", "workshop", "warehouse",
    ),
    # --- environment -------------------------------------------------------------------
    "noise": (
        "狗叫", "叫个不停", "切割机", "刺耳", "声音", "barks", "噪音", "噪声", "吵", "好嘈",
        "嘈", "扰民", "喇叭", "音响", "广场舞", "唱k", "卡拉ok", "装修声", "电钻", "打桩",
        "半夜", "凌晨", "睡不着", "瞓唔着", "震", "轰隆", "哐哐", "卸货", "倒车", "狗吠",
        "嘀嘀", "响", "大声", "noise", "noisy", "loud", "music", "drilling", "bass", "speaker",
        "loudspeaker", "karaoke", "barking", "all night", "thumping", "blares", "rattles",
    ),
    "fumes": (
        "烤炉", "热气", "喷油", "油烟", "烟味", "熏", "黑烟", "烧烤", "炭火", "熏腊肉", "炉头",
        "烟囱", "排气", "抽油烟", "净化器", "烟又黑", "fumes", "cooking smell", "chimney",
        "black smoke", "barbecue", "bbq", "exhaust",
    ),
    "water_pollution": (
        "水塘", "死鱼", "水都是绿色", "污水", "排污", "偷排", "河涌", "涌", "河道", "发黑",
        "鱼死", "翻白", "泡沫", "排水口", "白色液体", "油污", "江边", "水面", "sewage", "creek",
        "river", "canal", "discharge", "polluted", "pollution",
    ),
    "dust": (
        "扬尘", "灰尘", "粉尘", "沙尘", "泥沙", "没有覆盖", "洒水", "灰", "dust", "dusty",
        "sand",
    ),
    "odour": (
        "臭", "臭味", "异味", "恶臭", "刺鼻", "酸味", "化学品", "味道", "闻到", "好臭", "smell",
        "stink", "stinks", "odour", "odor", "chemical",
    ),
    "light_pollution": ("探照灯", "灯光", "光污染", "照着", "floodlight", "glare"),
    "burning": ("烧垃圾", "烧电线", "焚烧", "露天烧", "burning rubbish", "burning waste"),
    # --- municipal ---------------------------------------------------------------------
    "road_surface": (
        "大洞", "洞", "hole", "road", "big hole", "回填", "挖开", "路面", "坑", "坑洼", "烂路",
        "路烂", "凹陷", "塌陷", "下沉", "沥青", "鼓起", "地砖", "修路", "挖路", "开挖",
        "挖了又修", "路基", "pothole", "sinkhole", "road surface", "paving", "tarmac",
        "asphalt",
    ),
    "manhole_drain": (
        "井盖", "沙井", "渠盖", "下水道", "排水", "雨水井", "堵塞", "井", "渠", "雨污分流",
        "manhole", "drain", "drain cover", "gully", "sewer",
    ),
    "street_light": (
        "路灯", "街灯", "灯坏", "不亮", "好黑", "一片漆黑", "灯柱", "电灯柱", "street light",
        "streetlight", "lamp", "lamp post", "lights",
    ),
    "flooding": (
        "堤岸", "漫上来", "水浸", "积水", "水淹", "淹了", "淹", "内涝", "水漫", "涨水",
        "水还在涨", "隧道", "下穿", "进水", "泡在", "flooded", "flooding", "flood",
        "waterlogged", "underpass",
    ),
    "water_supply": (
        "水龙头", "水管", "water be back", "停水", "水压", "没水", "冇水", "水管爆", "爆水管",
        "水喉", "自来水", "水黄", "铁锈味", "水表", "供水", "爆咗", "water pipe", "burst pipe",
        "no water", "water pressure", "tap water", "water supply", "water back on",
    ),
    "power_supply": (
        "停电", "跳闸", "跳掣", "电压", "供电", "电线杆", "变压器", "电力", "断电", "来电",
        "blackout", "power cut", "outage", "tripping", "trips", "voltage", "power line",
        "power supply",
    ),
    "street_furniture": (
        "树倒", "大树", "树枝", "断枝", "倒树", "护栏", "栏杆", "围栏", "候车亭", "天桥",
        "消火栓", "公厕", "座椅", "walkway", "步道", "railing", "fallen tree", "branch",
        "bus shelter", "footbridge", "bench",
    ),
    # --- traffic -------------------------------------------------------------------------
    "parking": (
        "黄线", "挪车", "block住", "车主请", "yellow line", "乱停", "乱停车", "违停",
        "违章停车", "停车", "占车位", "车位", "堵住门口", "挡住", "双排", "停满", "停在",
        "停喺", "泊车", "停放", "illegal parking", "parked", "parking", "double parked",
        "blocked my car", "blocking",
    ),
    "abandoned_vehicle": (
        "拖走", "tow", "towed", "僵尸车", "报废车", "报废", "废弃车", "弃置", "长期停放",
        "积满灰", "轮胎瘪", "挂车", "挂斗", "停了快", "停了半年", "停了十年", "桑塔纳",
        "面包车", "zombie car", "abandoned car", "abandoned vehicle", "flat tyre", "flat tire",
    ),
    "traffic_signal": (
        "行人绿灯", "绿灯", "红灯", "go green", "红绿灯", "交通灯", "信号灯", "灯号", "闪黄灯",
        "限速牌", "路牌", "指示牌", "标志", "斑马线", "限高杆", "标线", "红路灯",
        "traffic light", "signal", "road sign", "zebra crossing", "crosswalk", "left-turn",
        "arrow",
    ),
    "congestion": (
        "塞车", "堵车", "拥堵", "排长队", "车流", "掉头", "左转", "车道", "慢车道",
        "traffic jam", "congestion", "queue", "lane", "gridlock",
    ),
    "two_wheelers": (
        "共享单车", "单车", "电动车", "电单车", "摩托车", "滑板车", "飞车", "逆行", "闯红灯",
        "超速", "飙车", "外卖车", "电动滑板车", "bike", "bikes", "shared bike", "scooter",
        "e-scooter", "motorbike", "motorcycle", "speeding", "racing",
    ),
    "transit": (
        "班次太少", "等半小时", "接驳", "公交", "巴士", "地铁", "公交站", "站牌", "班次",
        "黑摩的", "摩的", "拉客", "出租车", "网约车", "的士", "地铁站", "地铁口", "bus",
        "bus stop", "metro", "subway", "taxi", "station",
    ),
    "road_accident": (
        "撞上", "crashed", "撞", "撞倒", "撞了", "撞咗", "车祸", "追尾", "抛锚", "事故", "翻咗",
        "翻车", "卡在车里", "crash", "hit by", "accident", "collision", "knocked down",
        "ran over",
    ),
    "vehicles": (
        "货车", "大货车", "泥头车", "车", "车辆", "司机", "truck", "lorry", "car", "van",
        "driver",
    ),
    "school_run": ("校门口", "接送", "学校门口", "小学", "放学", "drop-off", "school gate"),
    # --- housing -------------------------------------------------------------------------
    "property_management": (
        "物业", "管理处", "物管", "管理费", "物业费", "业委会", "业主委员会", "业主大会",
        "业主", "门禁", "单元门", "小区", "property management", "property manager",
        "management office", "property fee", "owners", "compound", "estate",
    ),
    "lift": ("电梯", "升降机", "𨋢", "加装电梯", "lift", "elevator"),
    "leak": (
        "漏水", "渗水", "滴水", "天花", "天花板", "墙身", "发霉", "防水", "水渍", "漏", "leak",
        "leaking", "seeping", "damp", "mould", "mold", "ceiling", "drip", "dripping",
    ),
    "renting": (
        "租客", "房东", "出租屋", "群租", "劏房", "押金", "租金", "中介", "租住", "屋租",
        "tenant", "landlord", "rent", "subdivided", "deposit", "flat",
    ),
    "building_repair": (
        "维修", "老化", "窗框", "扶手", "外墙", "墙皮", "批荡", "瓷砖", "纸皮石", "屋顶",
        "瓦片", "天台", "防盗网", "窗", "门锁", "锁坏", "repair", "wall", "roof", "tiles",
        "plaster", "window", "balcony", "gate",
    ),
    "renovation": (
        "装修", "凿墙", "砸墙", "承重墙", "凿穿", "装修公司", "装修佬", "renovation",
        "renovating", "contractor",
    ),
    "old_estate": (
        "老旧小区", "旧楼改造", "微改造", "旧改", "老旧", "old building", "old-neighbourhood",
    ),
    "shared_space": (
        "公共走廊", "楼道", "楼梯间", "楼梯", "走廊", "电梯前室", "stairwell", "corridor",
        "hallway",
    ),
    # --- livelihood ----------------------------------------------------------------------
    "wages": (
        "高温补贴", "labour arbitration", "owing", "冇人工出", "冇钱", "工资", "欠薪", "拖欠",
        "工钱", "欠人工", "拖欠人工", "人工俾", "出粮", "包工头", "工头", "加班费", "讨薪",
        "劳动仲裁", "劳动监察", "劳动合同", "辞退", "赔偿", "wage", "wages", "salary", "unpaid",
        "overtime", "not been paid", "pay", "laid off", "fired",
    ),
    "social_insurance": (
        "社保", "医保", "养老保险", "公积金", "报销", "断缴", "养老金", "退休金", "失业金",
        "social insurance", "medical insurance", "pension", "reimbursement",
        "unemployment benefit",
    ),
    "elderly": (
        "没有人照顾", "没人照顾", "身体很差", "老人", "老人家", "阿婆", "阿伯", "伯伯", "婆婆",
        "独居", "孤寡", "空巢", "照顾", "养老", "长者", "长者饭堂", "助餐", "送餐", "老年",
        "陈伯", "张婆婆", "阿公", "老伯", "elderly", "senior", "old man", "old lady",
        "lives alone", "living alone", "grandma", "grandpa", "dementia", "meal delivery",
    ),
    "disability": (
        "残疾", "残疾人", "轮椅", "盲人", "聋", "残障", "disability", "disabled", "wheelchair",
        "blind",
    ),
    "welfare": (
        "补贴", "补助", "低保", "救助", "困难", "特困", "优抚", "退伍", "抚恤", "临时救助",
        "困难户", "帮扶", "申请", "津贴", "allowance", "benefit", "hardship", "assistance",
        "welfare",
    ),
    "jobs": (
        "公益性岗位", "招", "找工作", "失业", "就业", "招聘", "岗位", "培训", "再就业",
        "失咗业", "揾工", "job", "jobs", "unemployed", "employment", "work",
    ),
    "childcare": (
        "托管班", "积分入学", "上小学", "上学", "公办", "school place", "幼儿园", "学位",
        "入学", "托儿", "托育", "childcare", "kindergarten", "nursery",
    ),
    "homeless": ("流浪汉", "露宿", "流浪", "homeless", "rough sleeper"),
    "work_injury": ("工伤", "工伤赔偿", "work injury", "injured at work"),
    # --- public health -------------------------------------------------------------------
    "pests": (
        "老鼠", "鼠", "蟑螂", "曱甴", "蚊子", "蚊", "孑孓", "苍蝇", "乌蝇", "白蚁", "跳蚤",
        "臭虫", "灭鼠", "灭蚊", "消杀", "虫", "鼠患", "rat", "rats", "mice", "mouse",
        "mosquito", "cockroach", "roach", "flies", "termite", "pest control", "fumigat", "bugs",
        "fleas",
    ),
    "epidemic": (
        "发烧", "发热", "咳嗽", "传染", "疫情", "新冠", "流感", "登革热", "肺结核", "结核",
        "水痘", "手足口", "诺如", "核酸", "疫苗", "接种", "隔离观察", "阳性", "病毒", "fever",
        "cough", "infectious", "covid", "flu", "dengue", "tuberculosis", "vaccine",
        "quarantine", "outbreak", "virus",
    ),
    "dead_animal": (
        "死猫", "死狗", "死老鼠", "死鸟", "死雀", "死雀仔", "死鸽子", "尸体", "死鱼", "死咗",
        "dead cat", "dead bird", "dead pigeon", "dead rat", "carcass", "bird flu",
    ),
    "food_poisoning": (
        "食物中毒", "肚痛", "肚子痛", "腹泻", "拉肚子", "呕吐", "上吐下泻", "屙", "吐",
        "food poisoning", "vomiting", "diarrhoea", "diarrhea", "stomach",
    ),
    "medical_emergency": (
        "面青口唇白", "中咗暑", "晕倒", "晕低", "昏迷", "倒地", "倒在地上", "中暑", "心脏",
        "急救", "120", "救护车", "孕妇", "喘不过气", "呼吸困难", "一动不动", "没反应", "冇反应",
        "叫不醒", "叫唔醒", "起不来", "起唔到身", "脸都紫", "误吞", "脱水", "流血", "流紧血",
        "受伤", "晕", "ambulance", "collapsed", "unconscious", "not responding",
        "not breathing", "heatstroke", "choking", "bleeding", "injured", "fainted", "hospital",
    ),
    "animal_bite": (
        "狗咬", "被咬", "咬人", "咬咗", "咬伤", "狂犬", "疯狗", "野狗", "流浪狗", "蛇",
        "口吐白沫", "rabies", "stray dog", "bitten", "bite", "snake",
    ),
    "health_service": (
        "体检", "打针", "医院", "诊所", "社康", "卫生站", "卫生院", "看病", "医生", "clinic",
        "check-up", "doctor", "shot",
    ),
    # --- enterprise ----------------------------------------------------------------------
    "food_safety": (
        "冷柜", "冷藏", "苍蝇乱飞", "过期", "变质", "发霉", "地沟油", "卫生差", "厨房", "后厨",
        "食品安全", "肉馅", "怪味", "吃出", "异物", "头发", "冰块", "不新鲜", "死虾", "食品",
        "expired", "mouldy", "moldy", "rotten", "food safety", "kitchen", "hygiene",
        "restaurant",
    ),
    "consumer_rights": (
        "泡水车", "二手车", "大修过", "vanished", "took our deposit", "乱收费", "涨价", "价格",
        "缺斤短两", "秤", "短秤", "宰客", "服务费", "加收", "不退款", "退款", "退钱", "预付卡",
        "办卡", "会员卡", "跑路", "假货", "假药", "翻新机", "以次充好", "偷工减料", "订金",
        "定金", "消费者", "维权", "12315", "古惑", "price", "overcharge", "overcharged",
        "refund", "membership", "counterfeit", "scales", "rigged", "service charge", "consumer",
        "ripped off",
    ),
    "licence": (
        "营业执照", "执照", "许可证", "无证", "资质", "牌照", "办牌", "个体户", "注册", "注销",
        "年报", "经营许可", "备案", "licence", "license", "licensed", "permit", "registration",
        "register",
    ),
    "business": (
        "厂房", "扩建", "规划手续", "企业", "公司", "商户", "商家", "厂", "工厂", "园区",
        "产业园", "招商", "扶持", "政策", "人才", "人才住房", "人才公寓", "用电容量", "增容",
        "报装", "融资", "税", "税收", "首席服务官", "营商", "店铺", "商铺", "铺头", "士多",
        "美容院", "网吧", "健身房", "enterprise", "company", "firm", "business", "startup",
        "tax", "incentive", "talent", "industrial park", "power capacity", "shop", "gym",
        "subsidy",
    ),
    # --- other / enquiries ---------------------------------------------------------------
    "community_office": (
        "门牌号", "门牌", "居委", "居委会", "社区", "办事处", "街道办", "几点开门", "上班时间",
        "联系方式", "户口", "居住证", "证明", "开证明", "盖章", "人口普查", "网格员", "12345",
        "服务中心", "community", "office hours", "residence permit", "hukou", "certificate",
        "community center", "community centre", "grid worker",
    ),
    "bot_meta": (
        "这个群", "机器人", "转人工", "真人", "找谁", "不知道该找谁", "bot", "human",
        "this group", "who do i contact",
    ),
    # --- how it is said ------------------------------------------------------------------
    "hurry": (
        "快来", "快啲", "快点", "马上", "赶紧", "立即", "立刻", "快派人", "快叫人", "快来人",
        "唔该快", "救命", "紧急", "急", "hurry", "quick", "asap", "urgent", "emergency",
        "right now", "immediately", "help!",
    ),
    "happening_now": (
        "现在", "而家", "刚刚", "刚才", "啱啱", "头先", "正在", "还在", "仲喺度", "仲打紧",
        "now", "just now", "right now", "currently", "still",
    ),
    "danger": (
        "危险", "好危险", "差点", "差啲", "随时", "隐患", "吓死", "出事", "安全问题", "怕",
        "dangerous", "nearly", "almost", "could fall", "risk", "hazard", "unsafe",
    ),
    "trapped": (
        "被困", "困住", "困咗", "困在", "困喺", "卡住", "卡在", "出不来", "出唔到", "走不动",
        "trapped", "stuck", "can't get out", "inside", "locked in",
    ),
    "money": (
        "千蚊", "百蚊", "十蚊", "万蚊", "几蚊", "蚊鸡", "块钱", "万块", "千块", "元", "钱",
        "yuan", "rmb", "money", "dollars",
    ),
    "falling_object": (
        "掉下来", "掉落", "跌落", "跌落嚟", "悬在半空", "挂在半空", "歪在半空", "吊住", "砸到",
        "砸中", "砸伤", "碎片", "掉灰", "掉了一大块", "一晃一晃", "快断了", "断了一边",
        "falling", "fell", "fell off", "hanging", "dangling", "came down", "bits of",
    ),
    "live_wire": (
        "电线垂", "电线还垂", "压住了电线", "压住电线", "电线露", "电线都露", "电线断",
        "电线掉", "电线跌", "电箱的门", "漏电", "触电", "power line", "live wire",
        "hanging low", "exposed wires", "wires down",
    ),
    "chemical": (
        "刺鼻", "化学品", "头晕", "眼睛痛", "喉咙痛", "呛", "毒", "黄色的烟", "白色泡沫",
        "chemical", "headache", "headaches", "toxic", "fumes", "eyes sting",
    ),
    "imminent": (
        "快断了", "快倒了", "快塌", "随时", "就快", "一直在塌", "越来越", "还在涨", "还在掉",
        "还在晃", "正在", "马上就", "停住", "about to", "any moment", "getting worse",
        "still rising", "keeps falling",
    ),
    "people_at_risk": (
        "下面就是人行道", "下面就是", "旁边就是幼儿园", "旁边就是", "路过", "下面还有人",
        "小孩", "细路", "学生", "阿婆", "老人", "孕妇", "人还在", "playground", "children",
        "kids", "pedestrians", "people walking", "school",
    ),
    "duration": (
        "好几天", "几天", "一个月", "几个月", "半年", "一年", "十年", "好久", "很久", "一直",
        "成日", "经常", "每天", "每晚", "天天", "又", "多次", "第三次", "反复", "for days",
        "for weeks", "for months", "every night", "every day", "again", "always", "keeps",
    ),
    "person_injured": (
        "有人", "小孩", "细路", "孩子", "阿婆", "人还", "压住", "被困", "困住", "困咗",
        "someone", "kid", "child", "children", "people", "a man", "a woman",
    ),
    # --- chatter -------------------------------------------------------------------------
    "social": (
        "分享", "文章", "新闻", "天气", "好靓", "好香", "好舒服", "饮茶", "吃饭", "散步",
        "周末", "推荐", "有冇人知", "边间", "好食", "报名", "电影", "生日", "恭喜", "靓",
        "红包", "早晨", "晚安", "哈哈", "加油", "点赞", "欢迎", "同意", "+1", "楼上说得对",
        "share", "article", "news", "weather", "lovely", "beautiful", "recommend", "dim sum",
        "anyone know", "welcome", "congrats", "happy", "lol", "haha", "agree", "marathon",
        "fireworks show",
    ),
    "gratitude": (
        "谢谢", "多谢", "感谢", "唔该晒", "辛苦", "点赞", "表扬", "好评", "效率高", "thanks",
        "thank you", "appreciate", "great job", "well done",
    ),
    "resolved": (
        "修好了", "已修好", "修好咗", "已处理", "处理好了", "解决了", "已解决", "搞掂咗",
        "恢复了", "已恢复", "working again", "fixed", "resolved", "sorted",
    ),
    "question": (
        "请问", "想问", "问下", "问一下", "咨询", "怎么", "如何", "点样", "哪里", "边度",
        "什么时候", "几时", "可不可以", "能不能", "可唔可以", "有没有", "有冇", "吗", "呢",
        "how do i", "how can i", "where can i", "where is", "is there", "can i", "when will",
        "what", "who", "how",
    ),
    "suggestion": (
        "建议", "希望", "提议", "可以考虑", "最好", "能否", "增加", "加装", "多开", "多搞",
        "suggest", "suggestion", "would it be possible", "could we", "could you add",
        "please add", "it would be nice",
    ),
}
# fmt: on
"""Concept name -> phrases. A name is a feature (``K:name``), so renaming one retrains."""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
from pathlib import Path

import pytest

from triage import keywords as kw
from triage.categories import Category, Priority
from triage.classifier import CONFIDENCE_THRESHOLD, Classifier, Triage, classify
from triage.linear import LinearModel, ModelError
from triage.normalize import normalize

LETTERS_MODEL_MISS = pytest.mark.xfail(
    strict=True,
    reason="missed since the model learned from long letters (2026-12, issue 10): short "
    "English lines and a few short reports; strict, so a fix shows up here",
)
TFIDF_MODEL_MISS = pytest.mark.xfail(
    strict=True,
    reason="missed since the model is tf-idf over characters and jieba words with the "
    "lexicon weighed by length (2026-12-04, issue 10): a few short lines the lexicon used "
    "to settle; strict, so a fix shows up here",
)

C = Category


# --- the cases of the source article ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("公共烟管倒塌", C.SAFETY),
        ("公共烟管倒塌谁来负责？", C.SAFETY),
        ("公用水泵噪音扰民", C.ENVIRONMENT),
        ("公用水泵噪音扰民怎么办？", C.ENVIRONMENT),
        ("水浸街", C.MUNICIPAL),
        ("“水浸街”如何解决？", C.MUNICIPAL),
        ("一辆僵尸车10年无人处理", C.TRAFFIC),
        ("车停在小区里十年没人管", C.TRAFFIC),
        ("被拖欠工资", C.LIVELIHOOD),
        ("一到9点就跳闸", C.MUNICIPAL),
        ("一到9点就跳闸，快点想想办法增加电压啊！", C.MUNICIPAL),
        ("加装电梯纠纷", C.HOUSING),
        ("公司员工需要人才住房", C.ENTERPRISE),
        ("公司急需的互联网人才希望就近解决住房，有没有好的渠道？", C.ENTERPRISE),
    ],
)
def test_source_article_cases(text: str, category: Category) -> None:
    result = classify(text)
    assert result.category is category
    assert result.is_report
    assert result.confidence >= CONFIDENCE_THRESHOLD


def test_collapse_is_urgent() -> None:
    result = classify("公共烟管倒塌")
    assert result.priority is Priority.URGENT
    assert result.emergency_numbers == ("119",)


# --- everyday reports ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("路灯坏了三天", C.MUNICIPAL),
        ("楼下有人乱摆卖", C.CITY_MANAGEMENT),
        ("有人打架", C.PUBLIC_SECURITY),
        ("楼道有电动车充电", C.SAFETY),
        ("闻到煤气味", C.SAFETY),
        ("老鼠好多", C.PUBLIC_HEALTH),
        ("餐厅卫生很差食品过期", C.ENTERPRISE),
        ("老人没人照顾", C.LIVELIHOOD),
        ("street light broken outside block 5", C.MUNICIPAL),
        ("樓下啲垃圾冇人清，唔該搞掂佢", C.CITY_MANAGEMENT),
        ("條街水浸咗好深，有人被困", C.MUNICIPAL),
        ("樓道有人用電動車充電，好危險", C.SAFETY),
        ("我哋條街啲街燈壞咗成個禮拜", C.MUNICIPAL),
        ("隔離屋好嘈，成晚唱K", C.ENVIRONMENT),
        ("楼上漏水到我家天花板", C.HOUSING),
        ("工地晚上施工噪音太大", C.ENVIRONMENT),
        ("my neighbour is playing loud music at 2am", C.ENVIRONMENT),
        ("The lift has been broken for a week", C.HOUSING),
        ("We have not been paid our wages for 3 months", C.LIVELIHOOD),
        pytest.param("Rats everywhere near the bins", C.PUBLIC_HEALTH, marks=TFIDF_MODEL_MISS),
    ],
)
def test_everyday_reports(text: str, category: Category) -> None:
    result = classify(text)
    assert result.category is category, result
    assert result.is_report


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Lots of mosquitoes, please spray", C.PUBLIC_HEALTH),
        ("The road has a huge hole near the school", C.MUNICIPAL),
        ("The market overcharged me", C.ENTERPRISE),
        ("My boss hasn't paid me for two months", C.LIVELIHOOD),
        ("Cars parked on the pavement every night", C.TRAFFIC),
        ("The creek smells of sewage", C.ENVIRONMENT),
        ("我畀人呃咗三千蚊", C.PUBLIC_SECURITY),  # 蚊 is dollars here, not mosquitoes
        ("条街有个走鬼档阻住条路", C.CITY_MANAGEMENT),
        ("營業執照怎麼辦？", C.ENTERPRISE),
        ("宝玉直12号2楼漏水，电话13800138000，麻烦尽快处理", C.HOUSING),
        (
            "Block 5, Room 1203: water leaking through the ceiling again, call 13912345678",
            C.HOUSING,
        ),
    ],
)
def test_reports_not_in_the_corpus(text: str, category: Category) -> None:
    result = classify(text)
    assert result.is_report
    assert result.category is category, result


@pytest.mark.parametrize(
    "text",
    [
        "The lift in block 7 is stuck with my dad inside!!",
        "部𨋢坏咗，困住人呀！",
        "Someone collapsed outside the supermarket!",
        "三栋楼梯有很大的煤气味！！",
    ],
)
def test_emergencies_in_any_language_are_urgent_reports(text: str) -> None:
    result = classify(text)
    assert result.is_report
    assert result.priority is Priority.URGENT
    assert result.emergency_numbers


def test_greetings_and_thanks_do_not_hide_a_report() -> None:
    for text in (
        "大家好，楼下路灯坏了",
        "谢谢，楼下路灯坏了",
        "Thanks, the street light is broken",
    ):
        result = classify(text)
        assert result.is_report and result.category is C.MUNICIPAL, (text, result)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("有人打架", "110"),
        ("小区门口有人持刀", "110"),
        ("闻到煤气味", "119"),
        ("條街水浸咗好深，有人被困", "119"),
        ("someone is burning rubbish, lots of smoke", "119"),
        ("there's a fire in block 3!!", "119"),
        ("an old man fainted in the park", "120"),
        ("老人摔倒了流血", "120"),
    ],
)
def test_urgent_cues_suggest_the_right_number(text: str, number: str) -> None:
    result = classify(text)
    assert result.is_report
    assert result.priority is Priority.URGENT
    assert number in result.emergency_numbers


def test_numbers_are_deduplicated_in_order_of_appearance() -> None:
    result = classify("有人持刀打人，有人受伤流血")
    assert result.emergency_numbers == ("110", "120")


def test_fire_exit_is_not_a_fire() -> None:
    result = classify("Illegal parking blocking the fire exit")
    assert result.category in {C.TRAFFIC, C.SAFETY}
    assert result.is_report
    assert result.priority is not Priority.URGENT
    assert result.emergency_numbers == ()


@pytest.mark.parametrize(
    "text",
    [
        "无人被困，只是水浸",
        "没有人受伤，只是路灯坏了",
        "there is no smoke, but the street light is broken",
        "nobody was injured but the street light is broken",
        "楼道消防通道被堵，有火灾隐患",
    ],
)
def test_negated_or_guarded_cues_are_not_urgent(text: str) -> None:
    result = classify(text)
    assert result.is_report
    assert result.priority is not Priority.URGENT
    assert result.emergency_numbers == ()


@pytest.mark.parametrize(
    "text",
    [
        "建议在小区门口加个路灯",
        "请问社保怎么办理",
        "Where can I get the covid vaccine?",
        "would it be possible to add a bus stop here",
    ],
)
def test_questions_and_suggestions_are_low(text: str) -> None:
    result = classify(text)
    assert result.is_report
    assert result.priority is Priority.LOW


def test_a_question_that_complains_is_not_low() -> None:
    assert classify("请问路灯坏了几天了什么时候修").priority is Priority.NORMAL


# --- chatter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "大家早上好",
        "谢谢网格员！",
        "收到",
        "哈哈哈",
        "https://news.example.com/a",
        "加微信领优惠",
        "👍👍",
        "好的",
        "ok",
        "hello everyone",
        "thanks!",
        "唔该晒",
        "早晨",
        pytest.param("谢谢，路灯修好了", marks=TFIDF_MODEL_MISS),
        "今天天气不错，我们去饮茶吧",
        "车",
        pytest.param("兼职刷单，日结，联系13800138000", marks=TFIDF_MODEL_MISS),
        "转发：广州今日新闻 https://news.qq.com/a/123",
        pytest.param("Does anyone have a spare ladder I can borrow?", marks=LETTERS_MODEL_MISS),
        "电梯修好了，多谢物业",
        "有冇人今晚去饮茶？",
    ],
)
def test_chatter_is_not_a_report(text: str) -> None:
    result = classify(text)
    assert not result.is_report
    assert result.category is C.OTHER
    assert result.confidence == 0.0
    assert result.priority is Priority.LOW
    assert result.emergency_numbers == ()


def test_chatter_with_a_clear_problem_is_a_report() -> None:
    assert classify("大家好，楼下路灯坏了").category is C.MUNICIPAL
    assert classify("哈哈 路灯又坏了").is_report


def test_a_scam_in_the_group_is_a_report() -> None:
    assert classify("有人在群里发兼职刷单广告骗钱").category is C.PUBLIC_SECURITY


def test_emergency_is_never_chatter() -> None:
    result = classify("谢谢，有人被困")
    assert result.is_report and result.priority is Priority.URGENT


# --- addressed -------------------------------------------------------------------------


def test_addressed_chatter_is_a_report() -> None:
    result = classify("谢谢", addressed=True)
    assert result.is_report
    assert result.category is C.OTHER


def test_addressed_bare_link_is_a_report() -> None:
    assert classify("https://example.com/photo.jpg", addressed=True).is_report


@pytest.mark.parametrize("text", ["", "   ", "👍", "\n\t"])
def test_addressed_empty_is_still_nothing(text: str) -> None:
    result = classify(text, addressed=True)
    assert not result.is_report
    assert result.category is C.OTHER


def test_addressed_keeps_the_category() -> None:
    result = classify("路灯坏了", addressed=True)
    assert result.category is C.MUNICIPAL and result.is_report


# --- bad input -------------------------------------------------------------------------


def test_empty_text() -> None:
    result = classify("")
    assert result == Triage(C.OTHER, 0.0, False, Priority.LOW, ())
    assert result.to_json() == {
        "category": "other",
        "confidence": 0.0,
        "is_report": False,
        "priority": "low",
    }


def test_very_long_text() -> None:
    result = classify("路灯坏了" * 25_000)
    assert result.category is C.MUNICIPAL
    assert 0.0 <= result.confidence <= 1.0


def test_very_long_noise() -> None:
    result = classify("x" * 100_000)
    assert not result.is_report


def test_random_bytes() -> None:
    rng = random.Random(20240601)
    for _ in range(20):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
        result = classify(data.decode("utf-8", errors="replace"))
        assert 0.0 <= result.confidence <= 1.0
        assert isinstance(result.category, Category)


def test_only_emoji() -> None:
    assert not classify("😀😃😄🎉🎉🎉👍🏻").is_report


def test_lexicon_dump_is_classified_within_bounds() -> None:
    phrases = [p for table in kw.CATEGORY_KEYWORDS.values() for p in table]
    result = classify(" ".join(phrases * 20))
    assert result.is_report
    assert 0.0 <= result.to_json()["confidence"] <= 1.0


# --- the result ------------------------------------------------------------------------


def test_to_json_contract() -> None:
    data = classify("路灯坏了三天").to_json()
    assert set(data) == {"category", "confidence", "is_report", "priority"}
    assert data["category"] == "municipal"
    assert data["is_report"] is True
    assert data["priority"] == "normal"
    assert isinstance(data["confidence"], float)
    assert round(data["confidence"], 3) == data["confidence"]


def test_to_json_rounds_and_clamps() -> None:
    triage = Triage(C.TRAFFIC, 0.123456, True, Priority.NORMAL)
    assert triage.to_json()["confidence"] == 0.123
    assert dataclasses.replace(triage, confidence=1.2).to_json()["confidence"] == 1.0


def test_triage_is_frozen() -> None:
    triage = classify("路灯坏了")
    with pytest.raises(dataclasses.FrozenInstanceError):
        triage.category = C.OTHER  # type: ignore[misc]


@LETTERS_MODEL_MISS
def test_an_unclear_complaint_goes_to_other_but_is_still_filed() -> None:
    # 车 (traffic?) in 小区 (housing?): no department can be told from this
    result = classify("小区的车怎么办，投诉")
    assert result.category is C.OTHER
    assert 0.0 < result.confidence <= 1.0  # how likely "other" is right
    assert result.is_report
    assert result.priority is not Priority.URGENT


@pytest.mark.xfail(
    strict=True,
    reason="a four-character line that the lexicon settles is already as certain as the "
    "calibrated model gets (0.99999), so more evidence cannot raise it (2026-12-04)",
)
def test_confidence_grows_with_evidence() -> None:
    one = classify("路灯坏了").confidence
    more = classify("路灯坏了，井盖也没了，下水道堵塞").confidence
    assert 0.0 < one < more <= 1.0


def test_threshold_is_configurable() -> None:
    strict = Classifier(threshold=1.01)  # no category can be that sure
    result = strict.classify("车停在小区里十年没人管")
    assert result.category is C.OTHER
    assert result.is_report  # a complaint is still filed, for manual sorting
    lenient = Classifier(threshold=0.0)
    assert lenient.classify("车停在小区里十年没人管").category is C.TRAFFIC


def test_default_threshold_sends_weak_guesses_to_other() -> None:
    result = classify("有个问题想反映")
    assert result.is_report
    assert result.category is C.OTHER
    assert 0.0 < CONFIDENCE_THRESHOLD < 1.0


def test_deterministic() -> None:
    text = "楼下有人乱摆卖，还有人打架"
    assert {classify(text) for _ in range(5)} == {classify(text)}
    assert Classifier().classify(text) == classify(text)


# --- the lexicon -----------------------------------------------------------------------


def test_lexicon_is_well_formed() -> None:
    assert set(kw.CATEGORY_KEYWORDS) == set(Category) - {C.OTHER}
    for table in kw.CATEGORY_KEYWORDS.values():
        assert len(table) >= 20
        for phrase, weight in table.items():
            assert normalize(phrase), phrase
            assert 0 < weight <= 5
    assert set(kw.URGENT_CUES.values()) == {"110", "119", "120"}
    for phrase in kw.URGENT_CUES:
        assert normalize(phrase)


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("公共煙管倒塌", "公共烟管倒塌"),
        ("公用水泵噪音擾民", "公用水泵噪音扰民"),
        ("一輛殭屍車10年無人處理", "一辆僵尸车10年无人处理"),
        ("被拖欠工資", "被拖欠工资"),
        ("加裝電梯糾紛", "加装电梯纠纷"),
        ("公司員工需要人才住房", "公司员工需要人才住房"),
        ("路燈壞了三天", "路灯坏了三天"),
        ("樓下有人亂擺賣", "楼下有人乱摆卖"),
        ("聞到煤氣味", "闻到煤气味"),
        ("餐廳衛生很差食品過期", "餐厅卫生很差食品过期"),
        ("老人沒人照顧", "老人没人照顾"),
    ],
)
def test_traditional_and_simplified_agree(traditional: str, simplified: str) -> None:
    assert classify(traditional) == classify(simplified)


# --- loading ---------------------------------------------------------------------------


def test_the_model_is_loaded_once_and_only_when_needed() -> None:
    code = (
        "import triage.classifier as c\n"
        "assert c.default_model.cache_info().currsize == 0\n"
        "c.Classifier(); c.classify('')\n"
        "assert c.default_model.cache_info().currsize == 0\n"
        "c.classify('路灯坏了'); c.classify('有人打架')\n"
        "info = c.default_model.cache_info()\n"
        "assert (info.currsize, info.misses) == (1, 1), info\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="gridcall triage train"):
        LinearModel.load(tmp_path / "triage.json")

"""The org file: the example files load, and every mistake names its line and field.

Line numbers are asserted exactly: an admin fixing a config file goes straight to the line
the error names, so an off-by-one here is a real bug.
"""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest
from pydantic import ValidationError

from org.file import (
    CATEGORY_CODES,
    FlatUnit,
    OrgConfig,
    OrgFileError,
    OrgIssue,
    load_org,
    parse_org,
)

ROOT = Path(__file__).resolve().parents[2]
HAIZHU = ROOT / "examples" / "haizhu.yaml"
DEMO = ROOT / "bot" / "demo_org.yaml"
BROKEN = ROOT / "examples" / "broken.yaml"


def issues(text: str) -> list[OrgIssue]:
    """Parse `text` (dedented) expecting failure; the issues in reported order."""
    with pytest.raises(OrgFileError) as info:
        parse_org(dedent(text), "t.yaml")
    return info.value.errors


def places(text: str) -> list[tuple[int | None, str]]:
    return [(i.line, i.field) for i in issues(text)]


def only(text: str) -> OrgIssue:
    found = issues(text)
    assert len(found) == 1, found
    return found[0]


# A small valid org; tests below copy it and change one thing, so the line numbers they assert
# can be read off the text right beside them.
VALID = """\
    name: 测试区
    units:
      - id: street
        name: 街道
        level: street
        chat: -1001
        units:
          - id: comm
            name: 社区
            level: community
            chat: -1002
            units:
              - id: grid-1
                name: 网格一
                level: grid
                chat: -1003
                resident_chats: [-2001]
    """


# --- valid files -----------------------------------------------------------------------------


def test_minimal_org_loads_with_defaults() -> None:
    org = parse_org(dedent(VALID))
    assert org.name == "测试区"
    assert org.timezone == "Asia/Shanghai"
    assert org.language == "zh"
    assert org.case_prefix == "HZ"
    assert org.policy.ack == {
        "urgent": timedelta(minutes=10),
        "normal": timedelta(hours=2),
        "low": timedelta(days=1),
    }
    assert org.policy.resolve == {
        "urgent": timedelta(hours=4),
        "normal": timedelta(days=3),
        "low": timedelta(days=7),
    }
    assert org.policy.ladder == ["grid", "community", "street", "department", "leadership"]
    assert org.departments == [] and org.people == [] and org.leadership is None
    assert org.demo is None
    assert org.digest is None  # no morning digest unless the district asks for one
    assert (org.orders.ack, org.orders.remind_at) == (timedelta(hours=1), 0.5)


def test_haizhu_example_loads() -> None:
    org = load_org(HAIZHU)
    assert org.name == "海珠区"
    units = {u.id: u for u in org.all_units()}
    assert set(units) == {
        "haizhuang",
        "baoyuzhi",
        "baoyuzhi-1",
        "baoyuzhi-2",
        "tongqing",
        "tongqing-1",
        "jianghai",
        "jiangbei",
        "jiangbei-1",
    }
    assert units["baoyuzhi-2"].parent_id == "baoyuzhi"
    assert units["tongqing"].parent_id == "haizhuang"
    assert units["jiangbei-1"].resident_chats == [-1002004, -1002005]
    assert all(u.area for u in units.values() if u.level == "grid")
    # every one of the ten categories has a department
    owned = {c for d in org.departments for c in d.categories}
    assert owned == set(CATEGORY_CODES) - {"other"}
    assert org.leadership is not None and org.leadership.chat == -1001999
    leader = org.person(5009)
    assert leader is not None and leader.name == "李书记" and leader.roles == ["leader"]
    assert {r for p in org.people for r in p.roles} >= {
        "grid_worker",
        "community_staff",
        "street_staff",
        "department_staff",
        "leader",
        "admin",
    }
    zhang = org.person(5001)
    assert zhang is not None and zhang.phone == "13800005001"


def test_demo_org_loads_with_short_deadlines_and_residents() -> None:
    org = load_org(DEMO)
    assert org.language == "zh"
    assert org.policy.ack == {
        "urgent": timedelta(minutes=1),
        "normal": timedelta(minutes=2),
        "low": timedelta(minutes=5),
    }
    assert org.policy.resolve == {
        "urgent": timedelta(minutes=10),
        "normal": timedelta(minutes=30),
        "low": timedelta(hours=1),
    }
    grid = org.unit("baoyuzhi-1")
    assert grid is not None and grid.resident_chats == [-1002001]
    assert org.grid_for_resident_chat(-1002002) == org.unit("baoyuzhi-2")
    assert [u.id for u in org.ancestors("tongqing-1")] == ["tongqing", "haizhuang"]
    traffic = org.department("traffic")
    assert traffic is not None and traffic.categories == ["traffic"]
    assert {c for d in org.departments for c in d.categories} == set(CATEGORY_CODES) - {"other"}
    people = {p.telegram: (p.name, p.roles, p.units) for p in org.people}
    assert people == {
        5001: ("张三", ["grid_worker"], ["baoyuzhi-1"]),
        5002: ("王五", ["grid_worker"], ["baoyuzhi-2"]),
        5003: ("陈社区", ["community_staff"], ["baoyuzhi"]),
        5004: ("黄街道", ["street_staff"], ["haizhuang"]),
        5005: ("交警小刘", ["department_staff"], ["traffic"]),
        5009: ("李书记", ["leader"], []),
    }
    assert org.demo is not None
    assert [(r.name, r.telegram, r.chats) for r in org.demo.residents] == [
        ("陈阿姨", 7001, [-1002001]),
        ("林先生", 7002, [-1002001, -1002002]),
        ("Alice", 7003, [-1002002]),
    ]


def test_nested_and_flat_units_mix() -> None:
    org = parse_org(
        dedent(
            """\
            name: 混合
            units:
              - id: street
                name: 街道
                level: street
                units:
                  - {id: comm-a, name: 社区甲, level: community}
              - {id: comm-b, name: 社区乙, level: community, parent: street}
              - {id: grid-a1, name: 网格甲一, level: grid, chat: -1, parent: comm-a}
              - id: grid-b1
                name: 网格乙一
                level: grid
                chat: -2
                parent: comm-b
              - id: comm-c
                name: 社区丙
                level: community
                parent: street
                units:
                  - {id: grid-c1, name: 网格丙一, level: grid, chat: -3, parent: comm-c}
            """
        )
    )
    assert [(u.id, u.level, u.parent_id) for u in org.all_units()] == [
        ("street", "street", None),
        ("comm-a", "community", "street"),
        ("comm-b", "community", "street"),
        ("grid-a1", "grid", "comm-a"),
        ("grid-b1", "grid", "comm-b"),
        ("comm-c", "community", "street"),
        ("grid-c1", "grid", "comm-c"),
    ]
    assert [u.id for u in org.children("street")] == ["comm-a", "comm-b", "comm-c"]
    assert org.unit("grid-b1") == FlatUnit(
        id="grid-b1", name="网格乙一", level="grid", parent_id="comm-b", chat=-2
    )
    assert org.unit("nosuch") is None


def test_key_grid_with_categories() -> None:
    org = parse_org(
        dedent(
            """\
            name: 重点
            units:
              - id: comm
                name: 社区
                level: community
                parent: street
              - {id: street, name: 街道, level: street}
              - {id: key-1, name: 重点网格, level: grid, chat: -9, parent: comm, key: true,
                 categories: [safety, traffic]}
            """
        )
    )
    key = org.unit("key-1")
    assert key is not None and key.key and key.categories == ["safety", "traffic"]


def test_empty_values_mean_none_and_phone_numbers_stay_text() -> None:
    org = parse_org(
        dedent(VALID)
        + dedent(
            """\
            departments:
            people:
              - {name: 张三, telegram: 5001, roles: [grid_worker], units: [grid-1],
                 phone: 13800138000}
            """
        )
    )
    assert org.departments == []
    assert org.people[0].phone == "13800138000"


def test_building_in_python_runs_the_cross_checks_too() -> None:
    with pytest.raises(ValidationError, match="grid 'g' has no staff chat"):
        OrgConfig(name="x", units=[{"id": "g", "name": "G", "level": "grid"}])


# --- every kind of mistake, with its line and field ---------------------------------------------


def test_grid_without_chat() -> None:
    text = """\
        name: 测试区
        units:
          - id: street
            name: 街道
            level: street
            units:
              - id: baoyuzhi
                name: 宝玉直社区
                level: community
                units:
                  - {id: baoyuzhi-1, name: 一, level: grid, chat: -1}
                  - id: baoyuzhi-2
                    name: 宝玉直第二网格
                    level: grid
        """
    issue = only(text)
    assert (issue.line, issue.field) == (12, "units[0].units[0].units[1].chat")
    assert issue.message.startswith("grid 'baoyuzhi-2' has no staff chat")


def test_unknown_parent() -> None:
    text = """\
        name: 测试区
        units:
          - {id: haizhuang, name: 街道, level: street}
          - id: comm
            name: 社区
            level: community
            parent: haizhaung
        """
    issue = only(text)
    assert (issue.line, issue.field) == (7, "units[1].parent")
    assert issue.message == "unit 'haizhaung' does not exist (did you mean 'haizhuang'?)"


def test_parent_that_is_a_department() -> None:
    text = """\
        name: 测试区
        units:
          - {id: comm, name: 社区, level: community, parent: traffic}
        departments:
          - {id: traffic, name: 交警, categories: [traffic]}
        """
    issue = only(text)
    assert (issue.line, issue.field) == (3, "units[0].parent")
    assert "'traffic' is a department" in issue.message


def test_nested_unit_that_disagrees_with_its_parent_key() -> None:
    text = """\
        name: 测试区
        units:
          - id: s1
            name: 街道一
            level: street
            units:
              - {id: c, name: 社区, level: community, parent: s2}
          - {id: s2, name: 街道二, level: street}
        """
    issue = only(text)
    assert (issue.line, issue.field) == (7, "units[0].units[0].parent")
    assert issue.message.startswith("community 'c' is nested under street 's1' but says parent")


def test_duplicate_ids_share_one_space_for_units_and_departments() -> None:
    text = """\
        name: 测试区
        units:
          - id: street
            name: 街道
            level: street
            units:
              - {id: comm, name: 社区, level: community}
              - {id: comm, name: 社区二, level: community}
        departments:
          - id: street
            name: 城管
        """
    assert places(text) == [(8, "units[0].units[1].id"), (10, "departments[0].id")]
    found = issues(text)
    assert "duplicate id 'comm': already used by the community at line 7" in found[0].message
    assert "duplicate id 'street': already used by the street at line 3" in found[1].message


def test_reserved_id() -> None:
    text = """\
        name: 测试区
        units: [{id: street, name: 街道, level: street}]
        departments:
          - {id: leadership, name: 领导}
        """
    issue = only(text)
    assert (issue.line, issue.field) == (4, "departments[0].id")
    assert "reserved" in issue.message


def test_nesting_mistakes() -> None:
    text = """\
        name: 测试区
        units:
          - id: street
            name: 街道
            level: street
            units:
              - {id: grid-x, name: 网格, level: grid, chat: -1}
          - {id: comm, name: 社区, level: community, parent: street}
          - {id: comm-2, name: 社区二, level: community, parent: comm}
          - {id: street-2, name: 街道二, level: street, parent: street}
          - {id: lonely, name: 孤儿社区, level: community}
          - id: grid-y
            name: 网格乙
            level: grid
            chat: -2
        """
    found = issues(text)
    assert [(i.line, i.field) for i in found] == [
        (7, "units[0].units[0]"),
        (9, "units[2].parent"),
        (10, "units[3].parent"),
        (11, "units[4]"),
        (12, "units[5]"),
    ]
    assert found[0].message == (
        "grid 'grid-x' is under street 'street', but a grid's parent must be a community"
    )
    assert found[1].message == (
        "community 'comm-2' is under community 'comm', but a community's parent must be a street"
    )
    assert (
        found[2].message == "street 'street-2' is under street 'street', but a street has no parent"
    )
    assert found[3].message.startswith("community 'lonely' has no parent")
    assert found[4].message.startswith("grid 'grid-y' has no parent")


def test_person_in_a_unit_that_does_not_exist() -> None:
    text = """\
        name: 测试区
        units:
          - {id: street, name: 街道, level: street}
        people:
          - {name: 黄街道, telegram: 5001, roles: [street_staff], units: [street]}
          - {name: 李书记, telegram: 5009, roles: [leader]}
          - name: 王五
            telegram: 5002
            roles: [resident]
            units: [nosuch]
        """
    issue = only(text)
    assert (issue.line, issue.field) == (10, "people[2].units[0]")
    assert issue.message == "unit 'nosuch' does not exist"


def test_staff_role_without_a_place_to_work() -> None:
    text = """\
        name: 测试区
        units:
          - {id: street, name: 街道, level: street}
        people:
          - {name: 交警小刘, telegram: 5005, roles: [department_staff], units: [street]}
        """
    issue = only(text)
    assert (issue.line, issue.field) == (5, "people[0].units")
    assert issue.message.startswith("交警小刘 is a department_staff but none of their units")


def test_bad_durations_and_ladder() -> None:
    text = """\
        name: 测试区
        policy:
          ack:
            urgent: 10 minutes
            normal: 0s
            low: 1d
          resolve: {urgent: 4h, normal: 3d, lo: 7d}
          ladder: [street, grid]
        units:
          - {id: street, name: 街道, level: street}
        """
    found = issues(text)
    assert [(i.line, i.field) for i in found] == [
        (4, "policy.ack.urgent"),
        (5, "policy.ack.normal"),
        (7, "policy.resolve.lo"),
        (8, "policy.ladder"),
    ]
    assert found[0].message == (
        "bad duration '10 minutes': use a number followed by s, m, h or d, e.g. 90s, 15m, 2h, 3d"
    )
    assert found[1].message.startswith("bad duration '0s'")
    assert "(did you mean 'low'?)" in found[2].message
    assert "must start with grid" in found[3].message


def test_digest_and_orders_settings() -> None:
    text = """\
        name: 测试区
        digest: {at: "7:30", stuck_after: 2d}
        orders: {ack: 0m, remind_at: 2}
        units:
          - {id: street, name: 街道, level: street}
        """
    found = issues(text)
    assert [(i.line, i.field) for i in found] == [
        (2, "digest.at"),
        (3, "orders.ack"),
        (3, "orders.remind_at"),
    ]
    assert found[0].message == "bad time '7:30': use HH:MM, e.g. \"09:00\""
    good = parse_org(
        dedent(
            text.replace('"7:30"', '"07:30"')
            .replace("0m", "30m")
            .replace("remind_at: 2", "remind_at: off")
        )
    )
    assert good.digest is not None
    assert (good.digest.at, good.digest.stuck_after) == ("07:30", timedelta(days=2))
    assert (good.orders.ack, good.orders.remind_at) == (timedelta(minutes=30), 0.0)


def test_missing_priority() -> None:
    text = """\
        name: 测试区
        policy:
          ack: {urgent: 10m, normal: 2h}
        units: [{id: street, name: 街道, level: street}]
        """
    issue = only(text)
    assert (issue.line, issue.field) == (3, "policy.ack")
    assert issue.message.startswith("missing low: give a duration for each of urgent, normal")


def test_ladder_repeats_and_empty() -> None:
    text = """\
        name: 测试区
        policy: {ladder: [grid, street, street]}
        units: [{id: street, name: 街道, level: street}]
        """
    assert "'street' appears twice" in only(text).message
    text = """\
        name: 测试区
        policy:
          ladder: []
        units: [{id: street, name: 街道, level: street}]
        """
    issue = only(text)
    assert (issue.line, issue.field) == (3, "policy.ladder")


def test_residents_chat_bound_to_two_grids() -> None:
    text = """\
        name: 测试区
        units:
          - id: comm
            name: 社区
            level: community
            parent: street
            units:
              - {id: g1, name: 一, level: grid, chat: -11, resident_chats: [-21]}
              - id: g2
                name: 二
                level: grid
                chat: -12
                resident_chats:
                  - -22
                  - -21
          - {id: street, name: 街道, level: street}
        """
    issue = only(text)
    assert (issue.line, issue.field) == (15, "units[0].units[1].resident_chats[1]")
    assert issue.message == (
        "chat -21 is already the residents' chat of grid 'g1' (line 8); "
        "a residents' chat belongs to one grid"
    )


def test_residents_chat_that_is_also_a_staff_chat() -> None:
    text = """\
        name: 测试区
        units:
          - id: street
            name: 街道
            level: street
            chat: -1
            units:
              - id: comm
                name: 社区
                level: community
                units:
                  - {id: g1, name: 一, level: grid, chat: -11, resident_chats: [-1]}
                  - {id: g2, name: 二, level: grid, chat: -12, resident_chats: [-99]}
        leadership: {chat: -99}
        """
    found = issues(text)
    assert [(i.line, i.field) for i in found] == [
        (12, "units[0].units[0].units[0].resident_chats[0]"),
        (13, "units[0].units[0].units[1].resident_chats[0]"),
    ]
    assert found[0].message.startswith("chat -1 is the staff chat of street 'street'")
    assert found[1].message.startswith("chat -99 is the leadership chat")


def test_grid_only_fields_on_other_levels() -> None:
    text = """\
        name: 测试区
        units:
          - id: street
            name: 街道
            level: street
            area: [[113.27, 23.10], [113.30, 23.10], [113.30, 23.12]]
            resident_chats: [-5]
            key: true
            units:
              - id: comm
                name: 社区
                level: community
                units:
                  - {id: g, name: 网格, level: grid, chat: -1, categories: [safety]}
        """
    found = issues(text)
    assert [(i.line, i.field) for i in found] == [
        (6, "units[0].area"),
        (7, "units[0].resident_chats"),
        (8, "units[0].key"),
        (14, "units[0].units[0].units[0].categories"),
    ]
    assert found[0].message == "area is only for grids, and street 'street' is not a grid"
    assert found[3].message.startswith("categories are only for key grids: add key: true")


def test_bad_areas() -> None:
    text = """\
        name: 测试区
        units:
          - id: comm
            name: 社区
            level: community
            parent: street
            units:
              - {id: g1, name: 一, level: grid, chat: -1, area: [[113.2, 23.1], [113.3, 23.1]]}
              - id: g2
                name: 二
                level: grid
                chat: -2
                area: [[23.1, 113.2], [23.1, 113.3], [23.2, 113.3]]
              - id: g3
                name: 三
                level: grid
                chat: -3
                area:
                  - [113.2, 23.1]
                  - [113.3]
                  - [113.3, 23.2]
          - {id: street, name: 街道, level: street}
        """
    found = issues(text)
    assert [(i.line, i.field) for i in found] == [
        (8, "units[0].units[0].area"),
        (13, "units[0].units[1].area"),
        (20, "units[0].units[2].area[1]"),
    ]
    assert "needs at least 3" in found[0].message
    assert "are they swapped?" in found[1].message
    assert found[2].message == "a point is [lon, lat] in degrees, e.g. [113.28, 23.11]"


def test_unknown_department_category() -> None:
    text = """\
        name: 测试区
        units: [{id: street, name: 街道, level: street}]
        departments:
          - id: traffic
            name: 交警大队
            categories:
              - traffic
              - parking
        """
    issue = only(text)
    assert (issue.line, issue.field) == (8, "departments[0].categories[1]")
    assert issue.message.startswith("unknown category 'parking'")
    assert "city_management" in issue.message


def test_two_people_with_the_same_telegram_id() -> None:
    text = """\
        name: 测试区
        units: [{id: street, name: 街道, level: street}]
        people:
          - {name: 张三, telegram: 5001, roles: [resident]}
          - name: 王五
            telegram: 5001
            roles: [resident]
        """
    issue = only(text)
    assert (issue.line, issue.field) == (6, "people[1].telegram")
    assert issue.message == "telegram id 5001 is already used by 张三 (line 4)"


def test_typo_in_a_key_and_wrong_values() -> None:
    text = """\
        name: 测试区
        timezone: Mars/Olympus
        language: fr
        case_prefix: hz
        units:
          - id: Street 1
            name: 街道
            levle: street
            chat: not-a-number
        """
    found = issues(text)
    assert [(i.line, i.field) for i in found] == [
        (2, "timezone"),
        (3, "language"),
        (4, "case_prefix"),
        (6, "units[0].id"),
        (6, "units[0].level"),
        (8, "units[0].levle"),
        (9, "units[0].chat"),
    ]
    messages = [i.message for i in found]
    assert messages[0].startswith("unknown time zone 'Mars/Olympus'")
    assert messages[1] == "'fr' is not allowed here; use 'zh' or 'en'"
    assert messages[4] == "required, but missing"
    assert messages[5] == "unknown field 'levle' (did you mean 'level'?)"
    assert messages[6] == "expected a whole number, got 'not-a-number'"


def test_demo_resident_in_an_unknown_chat() -> None:
    text = dedent(VALID) + dedent(
        """\
        demo:
          residents:
            - {name: 陈阿姨, telegram: 7001, chats: [-2001, -2999]}
        """
    )
    issue = only(text)
    assert (issue.line, issue.field) == (20, "demo.residents[0].chats[1]")


def test_duplicate_yaml_key() -> None:
    text = dedent(VALID).replace("name: 测试区\n", "name: 测试区\nname: 又一个\n")
    issue = only(text)
    assert (issue.line, issue.field) == (2, "name")
    assert issue.message == "duplicate key 'name' (first on line 1)"


# --- the file as a whole --------------------------------------------------------------------


def test_yaml_syntax_error_names_its_line() -> None:
    text = """\
        name: 测试区
        units:
          - id: street
            name: 街道
           level: street
        """
    issue = only(text)
    assert issue.line == 5
    assert issue.message.startswith("YAML syntax error: ")


def test_unclosed_bracket() -> None:
    text = """\
        name: 测试区
        units: [{id: street, name: 街道, level: street}
        people: []
        """
    issue = only(text)
    assert issue.line == 3
    assert "line 2" in issue.message  # where the flow sequence began


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(text: str) -> None:
    issue = only(text)
    assert issue.line is None
    assert issue.message.startswith("the file is empty")


def test_a_list_instead_of_a_mapping() -> None:
    issue = only("- name: 测试区\n- units: []\n")
    assert issue.line == 1
    assert issue.message.startswith("the top level must be a mapping")
    assert issue.message.endswith("not a list")


def test_missing_units() -> None:
    issue = only("name: 测试区\n")
    assert (issue.line, issue.field, issue.message) == (1, "units", "required, but missing")


def test_error_text_is_file_line_field_message() -> None:
    text = """\
        name: 测试区
        units:
          - {id: street, name: 街道, level: street, chta: -1}
        """
    with pytest.raises(OrgFileError) as info:
        parse_org(dedent(text), "org.yaml")
    assert (
        str(info.value) == "org.yaml:3: units[0].chta: unknown field 'chta' (did you mean 'chat'?)"
    )
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.errors == info.value.errors and str(copy) == str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(OrgFileError) as info:
        load_org(missing)
    assert str(info.value).startswith(f"{missing}: cannot read the file")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(OrgFileError, match="not UTF-8"):
        load_org(latin)


def test_broken_example_reports_everything_at_once() -> None:
    with pytest.raises(OrgFileError) as info:
        load_org(BROKEN)
    got = [(i.line, i.field) for i in info.value.errors]
    assert got == [
        (4, "timezone"),
        (7, "policy.ack.normal"),
        (8, "policy.resolve"),
        (9, "policy.ladder"),
        (15, "units[0].area"),
        (27, "units[0].units[0].units[0].area"),
        (28, "units[0].units[0].units[1].chat"),
        (31, "units[0].units[0].units[1].resident_chats[0]"),
        (32, "units[0].units[1]"),
        (36, "units[0].units[1].resident_chats[0]"),
        (39, "units[1].name"),
        (41, "units[1].parent"),
        (42, "units[1].chta"),
        (43, "units[2].id"),
        (49, "departments[0].id"),
        (52, "departments[0].categories[0]"),
        (57, "people[1].telegram"),
        (58, "people[2].units[0]"),
        (59, "people[3].roles[0]"),
    ]
    text = str(info.value)
    assert text.count("\n") == len(got) - 1
    assert all(line.startswith(f"{BROKEN}:") for line in text.splitlines())

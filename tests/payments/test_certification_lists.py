"""Lists of people due and overdue for certification per township and unit, in the user's scope; people
of 90 and over are offered a home visit."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from shebao.core.values.period import period_of
from shebao.payments.selectors import certification_counts
from shebao.payments.services import certification_sweep
from tests.factories import PASSWORD, PersonFactory
from tests.payments.conftest import entitlement_create

HOME_VISIT = "90岁以上，可上门认证"


def _login(client, user):  # type: ignore[no-untyped-def]
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _third_in_town_a(pay, world):  # type: ignore[no-untyped-def]
    """张老汉, unit B but township A, never certified."""
    person = PersonFactory(region=world.region, employer=world.unit_b, township=world.town_a, name="张老汉")
    entitlement_create(
        person=person,
        benefit_type=pay.pension,
        from_period=202301,
        amount="1500.00",
        actor=world.centre_clerk,
    )
    return person


def test_counts_per_township_and_unit_follow_the_scope(pay, world):
    _third_in_town_a(pay, world)
    period = period_of(timezone.localdate())

    def counts(user, by):  # type: ignore[no-untyped-def]
        rows = certification_counts(user, period=period, status="due", by=by)
        return {r["name"]: r["n"] for r in rows}

    assert counts(world.centre_clerk, "township") == {"甲镇": 2, "乙镇": 1}
    assert counts(world.centre_clerk, "employer") == {"甲单位": 1, "乙单位": 2}
    assert counts(world.township_clerk, "township") == {"甲镇": 2}
    assert counts(world.unit_clerk, "employer") == {"甲单位": 1}


def test_the_page_lists_one_township_or_one_unit(client, pay, world):
    _third_in_town_a(pay, world)
    c = _login(client, world.centre_clerk)
    url = reverse("payments:certification")

    page = c.get(url).content.decode()
    assert 'id="counts-township"' in page and f"township={world.town_a.pk}" in page

    town_a = c.get(f"{url}?status=due&township={world.town_a.pk}").content.decode()
    assert "王小明" in town_a and "张老汉" in town_a and "李小红" not in town_a
    assert "仅显示所选乡镇的人员" in town_a

    unit_b = c.get(f"{url}?status=due&employer={world.unit_b.pk}").content.decode()
    assert "李小红" in unit_b and "张老汉" in unit_b and "王小明" not in unit_b


def test_a_township_clerk_cannot_list_another_township(client, pay, world):
    c = _login(client, world.township_clerk)

    page = c.get(f"{reverse('payments:certification')}?township={world.town_b.pk}").content.decode()

    assert "李小红" not in page and "没有需要认证的人员" in page
    assert "乙镇" not in page


def test_overdue_counts_after_the_sweep(client, pay, world):
    certification_sweep(region=world.region, period=202401, actor=world.centre_clerk)
    c = _login(client, world.unit_clerk)

    page = c.get(f"{reverse('payments:certification')}?status=overdue").content.decode()

    assert "逾期已暂停人数" in page and "王小明" in page and "李小红" not in page
    rows = certification_counts(world.centre_clerk, period=202401, status="overdue", by="township")
    assert sorted((r["name"], r["n"]) for r in rows) == [("乙镇", 1), ("甲镇", 1)]


def test_people_of_90_and_over_are_offered_a_home_visit(client, pay, world):
    today = timezone.localdate()
    world.person_a.birth_date = dt.date(today.year - 91, 1, 1)
    world.person_a.save(update_fields=["birth_date"])
    world.person_b.birth_date = dt.date(today.year - 70, 1, 1)
    world.person_b.save(update_fields=["birth_date"])
    c = _login(client, world.centre_clerk)

    page = c.get(reverse("payments:certification")).content.decode()

    row_a = page[page.index("王小明") : page.index("</tr>", page.index("王小明"))]
    row_b = page[page.index("李小红") : page.index("</tr>", page.index("李小红"))]
    assert HOME_VISIT in row_a and HOME_VISIT not in row_b

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from shebao.people.selectors import person_search


def test_it_looks_a_person_up_by_ssn_in_one_indexed_query(world):  # type: ignore[no-untyped-def]
    qs = person_search(world.centre_clerk, world.person_b.ssn)
    with CaptureQueriesContext(connection) as ctx:
        found = list(qs)
    assert [p.pk for p in found] == [world.person_b.pk]
    assert len(ctx.captured_queries) == 1
    plan = qs.explain()
    if connection.vendor == "sqlite":
        assert "USING INDEX" in plan and "ssn" in plan
    else:
        # A tiny test table may be scanned sequentially; forbid that and the index must serve the lookup.
        with connection.cursor() as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            plan = qs.explain()
        assert "Index" in plan and "ssn" in plan


def test_it_accepts_a_lowercase_x_check_digit(world):  # type: ignore[no-untyped-def]
    from tests.factories import PersonFactory

    p = PersonFactory(ssn="34152119800101002X", region=world.region)
    assert [x.pk for x in person_search(world.centre_clerk, p.ssn.lower())] == [p.pk]

from __future__ import annotations

from datetime import date

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from shebao.audit.actions import LABELS
from shebao.audit.models import AuditLog
from shebao.audit.selectors import audit_search
from shebao.web.decorators import requires


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@requires("audit.view")
def audit_list_view(request: HttpRequest) -> HttpResponse:
    g = request.GET
    qs = audit_search(
        request.user,
        action=g.get("action", ""),
        actor=g.get("actor", "").strip(),
        object_type=g.get("object_type", "").strip(),
        object_id=g.get("object_id", "").strip(),
        date_from=_date(g.get("date_from")),
        date_to=_date(g.get("date_to")),
    )
    page = Paginator(qs, 30).get_page(g.get("page"))
    params = g.copy()
    params.pop("page", None)
    actions = sorted(set(LABELS) | set(AuditLog.objects.values_list("action", flat=True).distinct()))
    return render(
        request,
        "audit/list.html",
        {
            "page_obj": page,
            "querystring": params.urlencode(),
            "actions": [(a, LABELS.get(a, a)) for a in actions],
            "labels": LABELS,
            "f": g,
        },
    )

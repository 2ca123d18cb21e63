from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from shebao.core.values.period import period_of
from shebao.people.selectors import account_effective, account_history, person_get, person_search
from shebao.web.decorators import requires


@requires("person.search")
def person_search_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    qs = person_search(request.user, q).order_by("ssn")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "people/search.html",
        {"q": q, "page_obj": page, "querystring": params.urlencode()},
    )


@requires("person.view")
def person_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    from django.utils import timezone

    person = person_get(request.user, pk)
    current = account_effective(person.pk, period_of(timezone.localdate()))
    return render(
        request,
        "people/detail.html",
        {
            "person": person,
            "categories": person.categories.all(),
            "current_account": current,
            "accounts": account_history(person),
        },
    )


@requires("person.export")
def person_export_view(request: HttpRequest) -> HttpResponseBase:
    from shebao.people.exporters import person_export_response

    return person_export_response(request, request.GET.get("q", "").strip())


@requires("person.import")
def person_import_view(request: HttpRequest) -> HttpResponse:
    from shebao.people.import_views import person_import_page

    return person_import_page(request)

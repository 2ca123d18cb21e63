"""The JSON API at /api/v1 (OpenAPI docs at /api/v1/docs). Every endpoint reads through the scoped selectors."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from shebao.api.auth import AUTH
from shebao.core.errors import DomainError, PermissionDenied
from shebao.core.values.masking import mask_account, mask_phone, mask_ssn
from shebao.core.values.period import period_of
from shebao.orgs import selectors as org_selectors
from shebao.people.models import PaymentAccount, Person
from shebao.people.selectors import account_effective, account_history, person_get, person_search

api = NinjaAPI(
    title="shebao API",
    version="1",
    description="社保卡发放与待遇支付系统接口。令牌按所属用户的角色和管辖范围授权。",
    auth=AUTH,
    urls_namespace="api",
)


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> Any:
    return api.create_response(request, {"detail": exc.message}, status=403)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> Any:
    return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=400)


def _require(request: HttpRequest, action: str) -> None:
    if not request.user.can(action):  # type: ignore[union-attr]
        raise HttpError(403, "您的角色无权进行此操作")


class OrgOut(Schema):
    id: int
    code: str
    name: str


class EmployerOut(OrgOut):
    kind: str
    township_id: int | None


class OutletOut(OrgOut):
    kind: str
    bank_id: int | None
    township_id: int | None
    address: str


class AccountOut(Schema):
    bank: str
    account_no: str
    account_name: str
    kind: str
    valid_from: int
    source: str


class PersonOut(Schema):
    id: int
    ssn: str
    name: str
    sex: str
    birth_date: date
    employer: str | None
    township: str | None
    deceased: bool


class PersonDetailOut(PersonOut):
    ethnicity: str
    phone: str
    address: str
    lives_in_region: bool
    categories: list[str]
    current_account: AccountOut | None
    accounts: list[AccountOut]


def _full(request: HttpRequest) -> bool:
    return bool(request.user.sees_full_ids)  # type: ignore[union-attr]


def _person_out(request: HttpRequest, p: Person) -> dict[str, Any]:
    full = _full(request)
    return {
        "id": p.pk,
        "ssn": p.ssn if full else mask_ssn(p.ssn),
        "name": p.name,
        "sex": p.get_sex_display(),
        "birth_date": p.birth_date,
        "employer": p.employer.name if p.employer_id else None,  # type: ignore[union-attr]
        "township": p.township.name if p.township_id else None,  # type: ignore[union-attr]
        "deceased": p.death_date is not None,
    }


def _account_out(request: HttpRequest, a: PaymentAccount, *, own: bool) -> dict[str, Any]:
    full = _full(request) or own
    return {
        "bank": a.bank.name if a.bank_id else a.bank_name,  # type: ignore[union-attr]
        "account_no": a.account_no if full else mask_account(a.account_no),
        "account_name": a.account_name,
        "kind": a.get_kind_display(),
        "valid_from": a.valid_from,
        "source": a.get_source_display(),
    }


@api.get("/persons", response=list[PersonOut], tags=["人员"], summary="人员查询（按管辖范围）")
@paginate(LimitOffsetPagination)
def persons_list(request: HttpRequest, q: str = "") -> Any:
    _require(request, "person.view")
    qs = person_search(request.user, q).order_by("ssn")
    return _LazyPersons(request, qs)


class _LazyPersons:
    """Serialise only the page the paginator slices, not the whole scope."""

    def __init__(self, request: HttpRequest, qs: Any):
        self.request, self.qs = request, qs

    def __len__(self) -> int:
        return int(self.qs.count())

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [_person_out(self.request, p) for p in self.qs[item]]


@api.get("/persons/{person_id}", response=PersonDetailOut, tags=["人员"], summary="人员详情")
def person_detail(request: HttpRequest, person_id: int) -> Any:
    _require(request, "person.view")
    p = person_get(request.user, person_id)
    own = getattr(request.user, "person_id", None) == p.pk
    out = _person_out(request, p)
    if own:
        out["ssn"] = p.ssn
    full = _full(request) or own
    current = account_effective(p.pk, period_of(timezone.localdate()))
    out.update(
        ethnicity=p.ethnicity,
        phone=p.phone if full else mask_phone(p.phone),
        address=p.address,
        lives_in_region=p.lives_in_region,
        categories=[c.get_category_display() for c in p.categories.all()],
        current_account=_account_out(request, current, own=own) if current else None,
        accounts=[_account_out(request, a, own=own) for a in account_history(p)],
    )
    return out


@api.get("/employers", response=list[EmployerOut], tags=["机构"], summary="参保单位")
@paginate(LimitOffsetPagination)
def employers_list(request: HttpRequest) -> Any:
    _require(request, "org.view")
    return org_selectors.employers_visible_to(request.user)


@api.get("/townships", response=list[OrgOut], tags=["机构"], summary="乡镇（街道）")
@paginate(LimitOffsetPagination)
def townships_list(request: HttpRequest) -> Any:
    _require(request, "org.view")
    return org_selectors.townships_visible_to(request.user)


@api.get("/banks", response=list[OrgOut], tags=["机构"], summary="合作银行")
@paginate(LimitOffsetPagination)
def banks_list(request: HttpRequest) -> Any:
    _require(request, "org.view")
    return org_selectors.banks_visible_to(request.user)


@api.get("/outlets", response=list[OutletOut], tags=["机构"], summary="服务网点")
@paginate(LimitOffsetPagination)
def outlets_list(request: HttpRequest) -> Any:
    _require(request, "org.view")
    return org_selectors.outlets_visible_to(request.user)


def _mount_routers() -> None:
    """Each domain's read API lives beside its selectors; mounted here under /api/v1."""
    from shebao.api.cards import router as cards_router

    api.add_router("", cards_router)
    api.add_router("", "shebao.payments.api.router")


_mount_routers()

"""Role-aware navigation. Apps add their sections to NAV; an item shows when the user may do its action."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    action: str  # an action of shebao.accounts.roles.ACTIONS


@dataclass(frozen=True)
class NavSection:
    title: str
    items: tuple[NavItem, ...]


NAV: list[NavSection] = [
    NavSection("首页", (NavItem("工作台", "home", "person.view"),)),
    NavSection(
        "人员管理",
        (
            NavItem("人员查询", "people:search", "person.search"),
            NavItem("人员导入", "people:import", "person.import"),
        ),
    ),
    NavSection(
        "系统管理",
        (
            NavItem("后台任务", "jobs:list", "job.view"),
            NavItem("审计日志", "audit:list", "audit.view"),
            NavItem("API令牌", "accounts:tokens", "token.manage"),
        ),
    ),
]


APP_NAV_MODULES = ("shebao.cards.nav", "shebao.switching.nav", "shebao.payments.nav", "shebao.campaigns.nav")


def all_sections() -> list[NavSection]:
    """The core sections, then each domain app's `nav.SECTIONS` (an app without a nav module adds none)."""
    import importlib

    sections = list(NAV[:2])
    for mod_name in APP_NAV_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError:
            continue
        sections.extend(getattr(mod, "SECTIONS", []))
    sections.extend(NAV[2:])
    return sections


def nav_for(user, path: str) -> list[dict]:  # type: ignore[no-untyped-def]
    sections = []
    for section in all_sections():
        items = []
        for item in section.items:
            if not user.can(item.action):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            active = path == url or (url != "/" and path.startswith(url))
            items.append({"label": item.label, "url": url, "active": active})
        if items:
            sections.append({"title": section.title, "items": items})
    return sections

"""`shebao demo_logins`: print the address and the demo logins that exist."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from shebao.demo.services import demo_login_rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = "列出演示账号 Print the demo logins (username, password, role, organisation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="登录地址 address of the site")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = demo_login_rows()
        self.stdout.write(f"访问地址 Address: {options['url']}")
        if not rows:
            self.stdout.write("没有演示账号，请先运行 shebao seed。 No demo logins: run `shebao seed` first.")
            return
        header = ("用户名 Username", "密码 Password", "角色 Role", "机构 Organisation")
        table = [header] + [
            (r.username, r.password, f"{r.role_label} {r.role_en}", r.organisation) for r in rows
        ]
        widths = [max(_width(row[i]) for row in table) for i in range(3)]
        self.stdout.write("演示账号 Demo logins:")
        for n, row in enumerate(table):
            line = "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
            self.stdout.write("  " + line.rstrip())
            if n == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths) + "  " + "-" * _width(row[3]))

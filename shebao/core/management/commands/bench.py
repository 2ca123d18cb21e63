"""`shebao bench NAME [options]`: run one registered benchmark (see shebao.core.bench)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shebao.core.bench import discover_benches


class Command(BaseCommand):
    help = "运行性能基准测试。Run a benchmark: shebao bench NAME --help lists its options."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="bench_name", metavar="NAME", required=True)
        for name, bench in sorted(discover_benches().items()):
            child = sub.add_parser(name, help=bench.help, description=bench.help)
            if bench.arguments is not None:
                bench.arguments(child)

    def handle(self, *args: Any, **options: Any) -> None:
        benches = discover_benches()
        name = options["bench_name"]
        if name not in benches:
            raise CommandError(f"没有名为 {name} 的基准测试，可用：{', '.join(sorted(benches))}")
        benches[name](options)

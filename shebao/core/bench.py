"""Benchmarks, run with `shebao bench NAME [options]`.

An app adds one by defining a `bench` module (e.g. `shebao/people/bench.py`) that registers it::

    @register_bench("import_persons", help="…", arguments=add_my_arguments)
    def bench_import_persons(options: dict) -> None: ...

`BENCHES` maps each name to a callable taking the parsed options; the `bench` command imports
every installed app's `bench` module, so a new benchmark needs no change here.
"""

from __future__ import annotations

import importlib
import importlib.util
from argparse import ArgumentParser
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Options = dict[str, Any]


@dataclass(frozen=True)
class Bench:
    name: str
    help: str
    run: Callable[[Options], None]
    arguments: Callable[[ArgumentParser], None] | None = None

    def __call__(self, options: Options) -> None:
        self.run(options)


BENCHES: dict[str, Bench] = {}


def register_bench(
    name: str, *, help: str, arguments: Callable[[ArgumentParser], None] | None = None
) -> Callable[[Callable[[Options], None]], Callable[[Options], None]]:
    def register(fn: Callable[[Options], None]) -> Callable[[Options], None]:
        if name in BENCHES and BENCHES[name].run is not fn:
            raise ValueError(f"benchmark {name!r} is registered twice")
        BENCHES[name] = Bench(name=name, help=help, run=fn, arguments=arguments)
        return fn

    return register


def discover_benches() -> dict[str, Bench]:
    """Import `<app>.bench` for every installed app that has one."""
    from django.apps import apps

    for config in apps.get_app_configs():
        module = f"{config.name}.bench"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return BENCHES

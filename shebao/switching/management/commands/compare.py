"""shebao compare --card-file FILE | --own-cards: compare the beneficiaries with a card-system extract or
with shebao's own card records."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shebao.core.errors import DomainError


class Command(BaseCommand):
    help = "比对业务系统与卡系统：导入卡系统数据文件（xlsx/xls/ods/csv）并按四类输出结果"

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--card-file", help="卡系统数据文件（xlsx、xls、ods 或 csv，UTF-8 或 GBK）")
        source.add_argument("--own-cards", action="store_true", help="与本系统社保卡记录比对")
        parser.add_argument("--region", help="统筹区代码（默认：SHEBAO_REGION_CODE）")
        parser.add_argument("--user", help="以该用户名记录操作人（默认：系统）")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        from django.conf import settings

        from shebao.accounts.models import User
        from shebao.orgs.models import Region
        from shebao.switching.cardsources import OWN_CARDS_DESCRIPTION, FileCardSource
        from shebao.switching.comparison import (
            card_extract_import,
            comparison_create,
            comparison_execute,
            comparison_from_own_cards,
        )
        from shebao.switching.models import ComparisonRun

        path = Path(options["card_file"] or "")
        if not options["own_cards"] and not path.is_file():
            raise CommandError(f"找不到文件 {path}")
        code = options.get("region") or settings.SHEBAO_REGION_CODE
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise CommandError(f"统筹区 {code} 不存在")
        actor: object = "系统"
        if options.get("user"):
            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"用户 {options['user']} 不存在")
        try:
            if options["own_cards"]:
                run = comparison_create(
                    region=region,
                    source_description=OWN_CARDS_DESCRIPTION,
                    actor=actor,
                    source_kind=ComparisonRun.Source.OWN_CARDS,
                )
                run = comparison_from_own_cards(run=run, actor=actor)
                self._report(run)
                return
            extract = card_extract_import(source=FileCardSource(path), actor=actor)
            run = comparison_create(region=region, source_description=path.name, actor=actor, extract=extract)
            run = comparison_execute(run=run, actor=actor)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self._report(run)

    def _report(self, run):  # type: ignore[no-untyped-def]
        from shebao.switching.models import ComparisonClass

        self.stdout.write(f"比对#{run.pk}：共{run.total}人")
        for value, label in ComparisonClass.choices:
            self.stdout.write(f"  {label}：{run.counts.get(value, 0)}")

"""Seed the benefit types paid through the card (豫社保〔2018〕10号 list; card rollout by type as in 佛山:
reimbursements from 2014-10, unemployment 2015-04, pensions 2015-06, work injury 2015-07)."""

from django.db import migrations

TYPES = [
    # code, name, payer_code, kind, card_from_period
    ("PEN-EMP", "职工基本养老金", "110001", "monthly", 201506),
    ("PEN-RES", "城乡居民基本养老金", "170001", "monthly", 201506),
    ("ANNUITY", "职业年金", "120001", "monthly", 201506),
    ("MED-REIMB", "医疗费用报销", "310001", "one_off", 201410),
    ("INJ-PERIODIC", "工伤定期待遇", "410001", "monthly", 201507),
    ("INJ-ONEOFF", "一次性工伤待遇", "410002", "one_off", 201507),
    ("UNEMP", "失业保险金", "210001", "monthly", 201504),
    ("MAT-MED", "生育医疗费", "510001", "one_off", 201410),
    ("MAT-ALLOW", "生育津贴", "510002", "one_off", 201410),
    ("FUNERAL", "丧葬补助金", "110002", "one_off", 201506),
    ("SURVIVOR", "一次性抚恤金", "110003", "one_off", 201506),
]


def seed(apps, schema_editor):
    BenefitType = apps.get_model("payments", "BenefitType")
    for order, (code, name, payer_code, kind, card_from) in enumerate(TYPES, start=1):
        BenefitType.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "payer_code": payer_code,
                "kind": kind,
                "card_from_period": card_from,
                "sort_order": order,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("payments", "BenefitType").objects.filter(code__in=[t[0] for t in TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]

"""factory_boy factories and the named personas every test uses."""

from __future__ import annotations

import datetime as dt

import factory

from shebao.accounts.models import User
from shebao.accounts.roles import Role
from shebao.orgs.models import Bank, Employer, Outlet, Region, Township
from shebao.people.models import PaymentAccount, Person

REGION_CODE = "341521"


def _ssn(n: int) -> str:
    from shebao.core.values.ssn import make_ssn

    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(n * 37) % 9000)
    return make_ssn(REGION_CODE, birth, n % 1000)


def _facts(ssn: str):  # type: ignore[no-untyped-def]
    from shebao.core.values.ssn import parse_ssn

    return parse_ssn(ssn)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = REGION_CODE
    name = "寿县"
    level = Region.Level.COUNTY


class TownshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Township

    region = factory.SubFactory(RegionFactory)
    code = factory.Sequence(lambda n: f"{REGION_CODE}{n + 100:03d}")
    name = factory.Sequence(lambda n: f"测试镇{n}")


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employer

    region = factory.SubFactory(RegionFactory)
    code = factory.Sequence(lambda n: f"U{n:06d}")
    name = factory.Sequence(lambda n: f"测试单位{n}有限公司")
    kind = Employer.Kind.ENTERPRISE


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bank

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.Sequence(lambda n: f"测试银行{n}")
    short_name = factory.Sequence(lambda n: f"测行{n}")


class OutletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outlet

    code = factory.Sequence(lambda n: f"O{n:04d}")
    name = factory.Sequence(lambda n: f"测试网点{n}")
    kind = Outlet.Kind.BANK_BRANCH
    region = factory.SubFactory(RegionFactory)
    bank = factory.SubFactory(BankFactory)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    ssn = factory.Sequence(_ssn)
    name = factory.Sequence(lambda n: f"张{'三四五六七八九'[n % 7]}{n}")
    name_initials = "zs"
    sex = factory.LazyAttribute(lambda o: _facts(o.ssn).sex)
    birth_date = factory.LazyAttribute(lambda o: _facts(o.ssn).birth_date)
    region = factory.SubFactory(RegionFactory)
    employer = factory.SubFactory(EmployerFactory)
    township = factory.SubFactory(TownshipFactory)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentAccount

    person = factory.SubFactory(PersonFactory)
    bank = factory.SubFactory(BankFactory)
    account_no = factory.Sequence(lambda n: f"6217{n:015d}")
    account_name = factory.LazyAttribute(lambda o: o.person.name)
    kind = PaymentAccount.Kind.PASSBOOK
    valid_from = 201001
    source = PaymentAccount.Source.IMPORT


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.CENTRE_CLERK
    region = factory.SubFactory(RegionFactory)
    password = factory.PostGenerationMethodCall("set_password", "Passw0rd!shebao")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


PASSWORD = "Passw0rd!shebao"

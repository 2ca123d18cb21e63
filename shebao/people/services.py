"""People writes: every change of a person, their categories or their payment accounts goes through
here and leaves its audit row in the same transaction."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from shebao.audit import actions
from shebao.audit.services import audit_record, audit_record_many
from shebao.core.errors import PermissionDenied, ValidationError
from shebao.core.values.bank import parse_bank_account
from shebao.core.values.names import name_pinyin_initials, validate_person_name
from shebao.core.values.period import parse_period
from shebao.core.values.ssn import parse_ssn
from shebao.orgs.models import Bank, Employer, Region, Township
from shebao.orgs.selectors import region_ids_under
from shebao.people.importers import (
    DEATH_DATE,
    SSN,
    AccountRow,
    CellError,
    ImportRejected,
    PersonFileValidator,
    PersonRow,
    Problem,
    ProgressLike,
    References,
    clean_free_text,
    clean_phone,
    count_data_lines,
    file_sha256,
)
from shebao.people.models import BenefitCategory, ImportBatch, PaymentAccount, Person, PersonCategory

IMPORT_KIND_PERSONS = "persons"
SSN_QUERY_CHUNK = 900  # SQLite allows 999 variables per statement in older builds


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _require(actor: Any, action: str) -> None:
    """Users must hold the action; None or a label is the system itself (commands, jobs)."""
    if hasattr(actor, "can") and not actor.can(action):
        raise PermissionDenied("您的角色无权进行此操作")


def _person_repr(name: str, ssn: str) -> str:
    return f"{name}（{ssn[:6]}…{ssn[-4:]}）"


# --- single changes ------------------------------------------------------------------------------


def _clean(fn: Any, value: str, *, field: str, **kwargs: Any) -> str:
    try:
        return fn(value, **kwargs)
    except CellError as exc:
        raise ValidationError(str(exc), field=field) from None


def _clean_person_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The editable person fields, cleaned by the same rules as the import."""
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            cleaned["name"] = validate_person_name(value)
            cleaned["name_initials"] = name_pinyin_initials(cleaned["name"])
        elif key == "ethnicity":
            cleaned[key] = (
                _clean(clean_free_text, value, field=key, max_length=20, what="民族") if value else ""
            )
        elif key == "address":
            cleaned[key] = (
                _clean(clean_free_text, value, field=key, max_length=200, what="住址") if value else ""
            )
        elif key == "phone":
            cleaned[key] = _clean(clean_phone, value, field=key) if value else ""
        elif key in ("lives_in_region", "employer", "township", "death_date"):
            cleaned[key] = value
        else:
            raise ValueError(f"person field {key!r} cannot be changed here")
    return cleaned


def person_create(
    *,
    actor: Any,
    region: Region,
    ssn: str,
    name: str,
    categories: Iterable[str] = (),
    details: Mapping[str, Any] | None = None,
) -> Person:
    """Register one person. Sex and birth date come from the SSN; `details` holds the optional
    fields (ethnicity, phone, address, lives_in_region, employer, township, death_date)."""
    _require(actor, "person.edit")
    parsed = parse_ssn(ssn)
    fields = _clean_person_fields({"name": name, **(details or {})})
    chosen = sorted(set(categories))
    unknown = [c for c in chosen if c not in BenefitCategory.values]
    if unknown:
        raise ValidationError(f"未知的人员类别：{'、'.join(unknown)}", field="categories")
    with transaction.atomic():
        if Person.objects.filter(ssn=parsed.value).exists():
            raise ValidationError("该社会保障号码已经登记，请查询后修改", field="ssn")
        person = Person.objects.create(
            ssn=parsed.value,
            sex=parsed.sex,
            birth_date=parsed.birth_date,
            region=region,
            is_beneficiary=bool(chosen),
            **fields,
        )
        PersonCategory.objects.bulk_create([PersonCategory(person=person, category=c) for c in chosen])
        audit_record(
            actor=actor,
            action=actions.PERSON_CREATE,
            obj=person,
            new={"ssn": person.ssn, **fields, "categories": chosen},
        )
    return person


def person_update(*, actor: Any, person: Person, changes: Mapping[str, Any], reason: str = "") -> Person:
    """Change a person's editable fields; the audit row keeps the old and the new values."""
    _require(actor, "person.edit")
    cleaned = _clean_person_fields(changes)
    with transaction.atomic():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for key, value in cleaned.items():
            before = getattr(locked, key)
            if before != value:
                old[key], new[key] = before, value
                setattr(locked, key, value)
        if new:
            locked.save(update_fields=[*new, "updated_at"])
            audit_record(
                actor=actor, action=actions.PERSON_UPDATE, obj=locked, old=old, new=new, reason=reason
            )
    return locked


def account_add(
    *,
    actor: Any,
    person: Person,
    account_no: str,
    account_name: str,
    kind: str,
    valid_from: int | str,
    bank: Bank | None = None,
    bank_name: str = "",
    source: str = PaymentAccount.Source.MANUAL,
    note: str = "",
) -> PaymentAccount:
    """Append a payment account from `valid_from` on. History is never overwritten: the account
    paying a period is the row with the greatest valid_from not after it."""
    _require(actor, "person.edit")
    number = parse_bank_account(account_no)
    holder = validate_person_name(account_name, field="account_name")
    period = parse_period(valid_from)
    if kind not in PaymentAccount.Kind.values:
        raise ValidationError("账户类型无效", field="kind")
    with transaction.atomic():
        account = PaymentAccount.objects.create(
            person=person,
            bank=bank,
            bank_name=_clean(clean_free_text, bank_name, field="bank_name", max_length=100, what="开户行名称")
            if bank_name
            else "",
            account_no=number.value,
            account_name=holder,
            kind=kind,
            valid_from=period,
            source=source,
            note=note,
        )
        audit_record(
            actor=actor,
            action=actions.ACCOUNT_ADD,
            obj=account,
            object_repr=str(person),
            new={
                "person": person.pk,
                "bank": bank.code if bank else "",
                "account_no": account.account_no,
                "account_name": holder,
                "kind": kind,
                "valid_from": period,
                "source": source,
            },
            reason=note,
        )
    return account


def beneficiary_flags_refresh(person_ids: Iterable[int] | None = None) -> int:
    """Set Person.is_beneficiary from the categories wherever it is wrong; returns the persons changed.

    person_create and the import keep the flag as they write categories; a bulk path that writes
    PersonCategory rows itself (the demo seed, a benchmark's population, a test's factory) calls this
    afterwards, for the persons it touched or (None) for everyone. Only rows whose flag changes are written.
    """
    has = Exists(PersonCategory.objects.filter(person_id=OuterRef("pk")))
    if person_ids is None:
        scopes = [Person.objects.all()]
    else:
        ids = sorted(set(person_ids))
        scopes = [Person.objects.filter(pk__in=part) for part in _chunks(ids, SSN_QUERY_CHUNK)]
    changed = 0
    for persons in scopes:
        changed += persons.filter(has, is_beneficiary=False).update(is_beneficiary=True)
        changed += persons.filter(~has, is_beneficiary=True).update(is_beneficiary=False)
    return changed


# --- the import ----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    file_name: str
    checksum: str
    row_count: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    accounts_added: int = 0
    warnings: list[Problem] = field(default_factory=list)
    batch: ImportBatch | None = None
    already_imported: ImportBatch | None = None

    @property
    def message(self) -> str:
        if self.already_imported is not None:
            at = timezone.localtime(self.already_imported.created_at)
            return f"该文件已于{at:%Y-%m-%d %H:%M}导入，未做任何修改"
        text = (
            f"共 {self.row_count} 行：新增 {self.created} 人，更新 {self.updated} 人，"
            f"未变 {self.unchanged} 人，新登记发放账户 {self.accounts_added} 个"
        )
        if self.warnings:
            text += f"；另有 {len(self.warnings)} 条提示请核对"
        return text

    def as_dict(self, *, max_listed: int = 1000) -> dict[str, Any]:
        return {
            "rows": self.row_count,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "accounts_added": self.accounts_added,
            "batch": self.batch.pk if self.batch else None,
            "already_imported": self.already_imported.pk if self.already_imported else None,
            "warning_count": len(self.warnings),
            "warnings": [list(w) for w in self.warnings[:max_listed]],
            "message": self.message,
        }


def _import_region(actor: Any) -> Region:
    region_id = getattr(actor, "region_id", None)
    if region_id:
        return Region.objects.get(pk=region_id)
    region = Region.objects.filter(code=settings.SHEBAO_REGION_CODE).first()
    if region is None:
        raise ValidationError(f"统筹区 {settings.SHEBAO_REGION_CODE} 尚未登记，请先初始化基础数据")
    return region


def _references(region_ids: list[int]) -> References:
    return References(
        employers=dict(Employer.objects.filter(region_id__in=region_ids).values_list("code", "pk")),
        townships=dict(Township.objects.filter(region_id__in=region_ids).values_list("code", "pk")),
        banks=dict(Bank.objects.values_list("code", "pk")),
    )


def persons_import(
    *, actor: Any, path: Path, file_name: str, progress: ProgressLike | None = None
) -> ImportResult:
    """Import a person file (xlsx, xls, ods, csv): check everything, then upsert by SSN in one transaction.

    Raises ImportRejected (with every problem by row and column) when anything is wrong; then nothing
    is written. A file whose bytes were imported before changes nothing; so does a file whose rows
    are all equal to what is stored. Blank cells keep an existing person's value.
    """
    _require(actor, "person.import")
    checksum = file_sha256(path)
    result = ImportResult(file_name=file_name, checksum=checksum)
    previous = ImportBatch.objects.filter(kind=IMPORT_KIND_PERSONS, checksum=checksum).first()
    if previous is not None:
        result.already_imported = previous
        result.row_count = previous.row_count
        return result

    region = _import_region(actor)
    allowed = region_ids_under(region.pk)
    refs = _references(allowed)
    estimate = count_data_lines(path)
    if progress is not None and estimate:
        progress.set_total(estimate)
    with PersonFileValidator(refs).validate(path, progress=progress, progress_scale=0.5) as checked:
        result.row_count = checked.row_count
        result.warnings = checked.warnings
        if checked.problems:
            if progress is not None:  # every row was checked: the bar shows that, the badge the failure
                progress.set_total(checked.row_count)
                progress.advance(checked.row_count, f"发现 {checked.problem_total} 个问题", force=True)
            raise ImportRejected(
                checked.problems,
                warnings=checked.warnings,
                row_count=checked.row_count,
                total=checked.problem_total,
            )
        if progress is not None:
            progress.set_total(checked.row_count)
            progress.advance(checked.row_count // 2, "检查通过，正在写入", force=True)
        try:
            with transaction.atomic():
                # One import per region at a time: the diff below must see a stable table.
                Region.objects.select_for_update().filter(pk=region.pk).first()
                previous = ImportBatch.objects.filter(kind=IMPORT_KIND_PERSONS, checksum=checksum).first()
                if previous is not None:
                    result.already_imported = previous
                    return result
                batch = ImportBatch.objects.create(
                    kind=IMPORT_KIND_PERSONS,
                    file_name=file_name[:255],
                    checksum=checksum,
                    row_count=checked.row_count,
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
                writer = _PersonWriter(
                    actor=actor, batch=batch, region=region, allowed=set(allowed), refs=refs
                )
                for chunk in checked.chunks():
                    writer.write(chunk)
                    if progress is not None:
                        progress.advance(
                            (checked.row_count + writer.seen) // 2, f"正在写入：已写入 {writer.seen} 行"
                        )
                if writer.problems:
                    raise ImportRejected(
                        writer.problems, warnings=checked.warnings, row_count=checked.row_count
                    )
                if writer.deaths:
                    for hook in PERSON_DEATH_HOOKS:
                        hook(writer.deaths, actor, f"人员导入：{file_name}"[:100])
                batch.created_count = writer.created
                batch.updated_count = writer.updated
                batch.unchanged_count = writer.unchanged
                batch.save(update_fields=["created_count", "updated_count", "unchanged_count"])
                audit_record(
                    actor=actor,
                    action=actions.PERSON_IMPORT,
                    obj=batch,
                    new={
                        "file_name": file_name,
                        "checksum": checksum,
                        "rows": checked.row_count,
                        "created": writer.created,
                        "updated": writer.updated,
                        "unchanged": writer.unchanged,
                        "accounts_added": writer.accounts_added,
                    },
                )
        except IntegrityError:
            # Only a concurrent writer can get here (the region lock serialises imports).
            raise ValidationError(
                "导入时人员数据被其他操作同时修改，未导入任何数据，请稍后重新导入"
            ) from None
    result.batch = batch
    result.created, result.updated = writer.created, writer.updated
    result.unchanged, result.accounts_added = writer.unchanged, writer.accounts_added
    return result


# Called inside the import's transaction with [(person id, death date)] of the existing persons the
# import has just marked dead, the acting user and a source text. The payments app stops their
# benefits there exactly as a death recorded at the counter does (people knows nothing of payments).
PERSON_DEATH_HOOKS: list[Callable[[list[tuple[int, dt.date]], Any, str], None]] = []


# Person fields an import may set, in PersonRow order; None in a row means "keep".
_ROW_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "phone",
    "address",
    "lives_in_region",
    "employer_id",
    "township_id",
    "death_date",
)
_LOADED = ("pk", "ssn", "region_id", "name_initials", "is_beneficiary", *_ROW_FIELDS)
_BENEFICIARY = _LOADED.index("is_beneficiary")
_ROW_INDEX = tuple(PersonRow._fields.index(f) for f in _ROW_FIELDS)
_CUR_INDEX = tuple(_LOADED.index(f) for f in _ROW_FIELDS)


class _PersonWriter:
    """Pass 2: upsert one chunk of clean rows with a handful of set-based statements."""

    def __init__(
        self, *, actor: Any, batch: ImportBatch, region: Region, allowed: set[int], refs: References
    ):
        self.actor = actor
        self.batch = batch
        self.region_id = region.pk
        self.allowed = allowed
        self.now = timezone.now()
        self.employer_codes = {pk: code for code, pk in refs.employers.items()}
        self.township_codes = {pk: code for code, pk in refs.townships.items()}
        self.bank_codes = {pk: code for code, pk in refs.banks.items()}
        self.problems: list[Problem] = []
        self.seen = self.created = self.updated = self.unchanged = self.accounts_added = 0
        self.deaths: list[tuple[int, dt.date]] = []  # existing persons this import marks dead
        # pypinyin is the slowest step of an import; names repeat a lot in a county.
        self.initials = functools.lru_cache(maxsize=20_000)(name_pinyin_initials)
        self.inserter = _PersonInserter(self.now)

    def write(self, rows: list[PersonRow]) -> None:
        self.seen += len(rows)
        existing: dict[str, tuple[Any, ...]] = {}
        for part in _chunks([r.ssn for r in rows], SSN_QUERY_CHUNK):
            for values in Person.objects.filter(ssn__in=part).values_list(*_LOADED):
                existing[values[1]] = values
        if not existing:
            self._create(rows)
            return

        new_rows: list[PersonRow] = []
        old_rows: list[tuple[PersonRow, tuple[Any, ...]]] = []
        for row in rows:
            current = existing.get(row.ssn)
            if current is None:
                new_rows.append(row)
            elif current[2] not in self.allowed:
                self.problems.append(
                    Problem(row.row, SSN, row.ssn, "该人员已在其他统筹区登记，不能由本统筹区导入修改")
                )
            else:
                old_rows.append((row, current))
        if new_rows:
            self._create(new_rows)
        if old_rows:
            self._update(old_rows)

    # -- new persons --

    def _create(self, rows: list[PersonRow]) -> None:
        batch_id, region_id, initials = self.batch.pk, self.region_id, self.initials
        date = self.inserter.adapt_date
        self.inserter.insert(
            (
                r.ssn,
                r.name,
                initials(r.name),
                r.sex,
                date(r.birth_date),
                r.ethnicity or "",
                r.phone or "",
                r.address or "",
                True if r.lives_in_region is None else r.lives_in_region,
                region_id,
                r.employer_id,
                r.township_id,
                date(r.death_date) if r.death_date else None,
                batch_id,
                bool(r.categories),
            )
            for r in rows
        )
        self.created += len(rows)
        if not any(r.categories or r.account for r in rows):
            return
        ids = self._ids([r.ssn for r in rows if r.categories or r.account])
        categories = [
            PersonCategory(person_id=ids[r.ssn], category=c)
            for r in rows
            if r.categories
            for c in r.categories
        ]
        if categories:
            PersonCategory.objects.bulk_create(categories, batch_size=2000)
        accounts = [self._account(ids[r.ssn], r.account) for r in rows if r.account]
        if accounts:
            PaymentAccount.objects.bulk_create(accounts, batch_size=2000)
            self.accounts_added += len(accounts)

    def _ids(self, ssns: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for part in _chunks(ssns, SSN_QUERY_CHUNK):
            ids.update(Person.objects.filter(ssn__in=part).values_list("ssn", "pk"))
        return ids

    def _account(self, person_id: int, a: AccountRow) -> PaymentAccount:
        return PaymentAccount(
            person_id=person_id,
            bank_id=a.bank_id,
            bank_name=a.bank_name,
            account_no=a.account_no,
            account_name=a.account_name,
            kind=a.kind,
            valid_from=a.valid_from,
            source=PaymentAccount.Source.IMPORT,
            note=f"导入批次 #{self.batch.pk}",
        )

    # -- existing persons --

    def _update(self, pairs: list[tuple[PersonRow, tuple[Any, ...]]]) -> None:
        ids = [current[0] for _, current in pairs]
        want_categories = any(r.categories is not None for r, _ in pairs)
        want_accounts = any(r.account is not None for r, _ in pairs)
        categories: dict[int, tuple[str, ...]] = {}
        accounts: dict[int, list[tuple[Any, ...]]] = {}
        for part in _chunks(ids, SSN_QUERY_CHUNK):
            if want_categories:
                grouped: dict[int, list[str]] = {}
                for pid, cat in PersonCategory.objects.filter(person_id__in=part).values_list(
                    "person_id", "category"
                ):
                    grouped.setdefault(pid, []).append(cat)
                categories.update((pid, tuple(sorted(cats))) for pid, cats in grouped.items())
            if want_accounts:
                for history in (
                    PaymentAccount.objects.filter(person_id__in=part)
                    .order_by("person_id", "valid_from", "id")
                    .values_list(
                        "person_id",
                        "valid_from",
                        "bank_id",
                        "bank_name",
                        "account_no",
                        "account_name",
                        "kind",
                    )
                ):
                    accounts.setdefault(history[0], []).append(history)

        changed: list[Person] = []
        replace_categories: list[int] = []
        new_categories: list[PersonCategory] = []
        new_accounts: list[PaymentAccount] = []
        audit_rows: list[dict[str, Any]] = []
        for row, current in pairs:
            pid = current[0]
            old: dict[str, Any] = {}
            new: dict[str, Any] = {}
            merged = dict(zip(_ROW_FIELDS, (current[i] for i in _CUR_INDEX), strict=True))
            for name, ri, ci in zip(_ROW_FIELDS, _ROW_INDEX, _CUR_INDEX, strict=True):
                value = row[ri]
                if value is not None and value != current[ci]:
                    old[name], new[name] = current[ci], value
                    merged[name] = value
            if "death_date" in new:
                if old["death_date"] is not None:
                    self.problems.append(
                        Problem(
                            row.row,
                            DEATH_DATE,
                            f"{new['death_date']:%Y-%m-%d}",
                            f"已登记死亡日期{old['death_date']:%Y-%m-%d}，导入不能更改；更正请由中心复核员办理",
                        )
                    )
                    continue
                self.deaths.append((pid, new["death_date"]))
            initials = current[3]
            if "name" in new:
                initials = self.initials(row.name)
            beneficiary = current[_BENEFICIARY]
            if row.categories is not None and row.categories != categories.get(pid, ()):
                old["categories"], new["categories"] = list(categories.get(pid, ())), list(row.categories)
                replace_categories.append(pid)
                beneficiary = bool(row.categories)
                new_categories.extend(PersonCategory(person_id=pid, category=c) for c in row.categories)
            if row.account is not None:
                before = _effective(accounts.get(pid, []), row.account.valid_from)
                if before is None or before[2:] != row.account[:5]:
                    old["account"] = self._account_dict(before) if before else None
                    new["account"] = self._account_dict((pid, row.account.valid_from, *row.account[:5]))
                    new_accounts.append(self._account(pid, row.account))
            if not new:
                self.unchanged += 1
                continue
            self.updated += 1
            changed.append(
                Person(
                    pk=pid,
                    name_initials=initials,
                    is_beneficiary=beneficiary,
                    import_batch_id=self.batch.pk,
                    updated_at=self.now,
                    **merged,
                )
            )
            audit_rows.append(
                {
                    "object_id": pid,
                    "object_repr": _person_repr(merged["name"], row.ssn),
                    "old": self._readable(old),
                    "new": self._readable(new),
                }
            )
        if changed:
            Person.objects.bulk_update(
                changed,
                [*_ROW_FIELDS, "name_initials", "is_beneficiary", "import_batch_id", "updated_at"],
                batch_size=500,
            )
        for part in _chunks(replace_categories, SSN_QUERY_CHUNK):
            PersonCategory.objects.filter(person_id__in=part).delete()
        if new_categories:
            PersonCategory.objects.bulk_create(new_categories, batch_size=2000)
        if new_accounts:
            PaymentAccount.objects.bulk_create(new_accounts, batch_size=2000)
            self.accounts_added += len(new_accounts)
        if audit_rows:
            audit_record_many(
                actor=self.actor,
                action=actions.PERSON_UPDATE,
                object_type="people.person",
                rows=audit_rows,
                reason=f"导入文件 {self.batch.file_name}（批次 #{self.batch.pk}）",
            )

    def _account_dict(self, values: tuple[Any, ...]) -> dict[str, Any]:
        _, valid_from, bank_id, bank_name, account_no, account_name, kind = values
        return {
            "bank": self.bank_codes.get(bank_id, "") if bank_id else "",
            "bank_name": bank_name,
            "account_no": account_no,
            "account_name": account_name,
            "kind": kind,
            "valid_from": valid_from,
        }

    def _readable(self, values: dict[str, Any]) -> dict[str, Any]:
        """Audit rows name units and townships by code, as the clerk typed them."""
        out = dict(values)
        if "employer_id" in out:
            out["employer"] = self.employer_codes.get(out.pop("employer_id"), "")
        if "township_id" in out:
            out["township"] = self.township_codes.get(out.pop("township_id"), "")
        for key in ("birth_date", "death_date"):
            if isinstance(out.get(key), dt.date):
                out[key] = out[key].isoformat()
        return out


class _PersonInserter:
    """INSERTs new persons with one executemany per chunk.

    bulk_create spends most of an import building model instances and compiling a 16-column
    VALUES list per row; here values are adapted once per column type. Columns the import does not
    set get the model field's default, so a field added to Person later still gets a value."""

    COLUMNS = (
        "ssn",
        "name",
        "name_initials",
        "sex",
        "birth_date",
        "ethnicity",
        "phone",
        "address",
        "lives_in_region",
        "region",
        "employer",
        "township",
        "death_date",
        "import_batch",
        "is_beneficiary",
    )

    def __init__(self, now: dt.datetime):
        ops = connection.ops
        self.adapt_date = ops.adapt_datefield_value
        meta = Person._meta
        by_name = {f.name: f for f in meta.concrete_fields}
        stamped = ("created_at", "updated_at")
        others = [
            f for f in meta.concrete_fields if not f.primary_key and f.name not in (*self.COLUMNS, *stamped)
        ]
        stamp = ops.adapt_datetimefield_value(now)
        self.tail = (stamp, stamp, *(f.get_db_prep_save(f.get_default(), connection) for f in others))
        columns = [*(by_name[n] for n in (*self.COLUMNS, *stamped)), *others]
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            ops.quote_name(meta.db_table),
            ", ".join(ops.quote_name(str(f.column)) for f in columns),
            ", ".join(["%s"] * len(columns)),
        )

    def insert(self, rows: Iterable[tuple[Any, ...]]) -> None:
        tail = self.tail
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, [(*row, *tail) for row in rows])


def _effective(history: list[tuple[Any, ...]], period: int) -> tuple[Any, ...] | None:
    """The account paying `period`: greatest valid_from <= period, the latest row on a tie.

    Comparing the file's account with this one (and not with the newest row) keeps a re-import
    idempotent even when the file carries an older account than the newest one."""
    found = None
    for values in history:  # ordered by valid_from, id
        if values[1] <= period:
            found = values
        else:
            break
    return found

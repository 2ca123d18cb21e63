# PostgreSQL: the comparison result table becomes partitioned by run (LIST on run_id), one partition per run,
# so that a run's rows are loaded into a table without an index and indexed once afterwards (comparison.py).
# Each partition carries a unique index on the person (the model's (run, person) key: the run is the partition's
# one value); the default partition, for rows written any other way, a unique (run, person) index. Existing
# results are moved into their runs' partitions. SQLite keeps its table: nothing changes there, nor in Django's
# state.

from django.db import migrations

TABLE = "switching_comparisonresult"
_COLUMNS = (
    '"klass" varchar(24) NOT NULL, "reason" varchar(24) NOT NULL, "name_in_benefit" varchar(50) NOT NULL,'
    ' "name_in_card" varchar(50) NOT NULL, "card_record_id" bigint NULL, "person_id" bigint NOT NULL,'
    ' "run_id" bigint NOT NULL'
)
_NAMES = '"klass", "reason", "name_in_benefit", "name_in_card", "card_record_id", "person_id", "run_id"'


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    old = f"{TABLE}_unpartitioned"
    execute = schema_editor.execute
    execute(f'ALTER TABLE "{TABLE}" RENAME TO "{old}"')
    execute(f'ALTER TABLE "{old}" RENAME CONSTRAINT "{TABLE}_pkey" TO "{old}_pkey"')
    execute(f'CREATE TABLE "{TABLE}" ({_COLUMNS}) PARTITION BY LIST ("run_id")')
    execute(f'CREATE TABLE "{TABLE}_default" PARTITION OF "{TABLE}" DEFAULT')
    execute(f'CREATE UNIQUE INDEX "{TABLE}_default_key" ON "{TABLE}_default" ("run_id", "person_id")')
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f'SELECT DISTINCT "run_id" FROM "{old}" ORDER BY 1')
        run_ids = [row[0] for row in cursor.fetchall()]
    for run_id in run_ids:
        partition = f"{TABLE}_{int(run_id)}"
        execute(f'CREATE TABLE "{partition}" (LIKE "{TABLE}", CHECK ("run_id" = {int(run_id)}))')
        execute(
            f'INSERT INTO "{partition}" ({_NAMES}) SELECT {_NAMES} FROM "{old}" WHERE "run_id" = %s', [run_id]
        )
        execute(f'CREATE UNIQUE INDEX "{partition}_person" ON "{partition}" ("person_id")')
        execute(f'ALTER TABLE "{TABLE}" ATTACH PARTITION "{partition}" FOR VALUES IN ({int(run_id)})')
    execute(f'DROP TABLE "{old}"')


class Migration(migrations.Migration):
    dependencies = [
        ("switching", "0004_comparison_result_run_person_key"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

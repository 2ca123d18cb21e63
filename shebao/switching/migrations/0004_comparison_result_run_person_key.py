# The surrogate id of comparison results is dropped: the primary key is (run, person), the one index the table
# had besides it. Django cannot alter a primary key into a composite one, so the tables are changed here by hand
# and the state follows.

from django.db import migrations, models

_PG = [
    'ALTER TABLE "switching_comparisonresult" DROP CONSTRAINT "comparison_result_once_per_run"',
    'ALTER TABLE "switching_comparisonresult" DROP COLUMN "id"',
    'ALTER TABLE "switching_comparisonresult" ADD CONSTRAINT "switching_comparisonresult_pkey"'
    ' PRIMARY KEY ("run_id", "person_id")',
]
_COLUMNS = '"klass", "reason", "name_in_benefit", "name_in_card", "card_record_id", "person_id", "run_id"'
_SQLITE = [
    'CREATE TABLE "new__switching_comparisonresult" ("klass" varchar(24) NOT NULL, "reason" varchar(24) NOT NULL,'
    ' "name_in_benefit" varchar(50) NOT NULL, "name_in_card" varchar(50) NOT NULL, "card_record_id" bigint NULL,'
    ' "person_id" bigint NOT NULL, "run_id" bigint NOT NULL, PRIMARY KEY ("run_id", "person_id"))',
    f'INSERT INTO "new__switching_comparisonresult" ({_COLUMNS}) SELECT {_COLUMNS} FROM "switching_comparisonresult"',
    'DROP TABLE "switching_comparisonresult"',
    'ALTER TABLE "new__switching_comparisonresult" RENAME TO "switching_comparisonresult"',
]


def forwards(apps, schema_editor):
    for statement in _PG if schema_editor.connection.vendor == "postgresql" else _SQLITE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("switching", "0003_switch_failure_payment_line"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards)],
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="comparisonresult", name="comparison_result_once_per_run"
                ),
                migrations.RemoveField(model_name="comparisonresult", name="id"),
                migrations.AddField(
                    model_name="comparisonresult",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "run", "person", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
            ],
        ),
    ]

"""The database itself refuses to change a card ledger line (and, on PostgreSQL, to delete one), as it
does for audit rows: the model's own refusal covers only the ORM's save() and delete().

SQLite gets no DELETE trigger: Django's test flush empties tables with DELETE there; on PostgreSQL the
flush uses TRUNCATE, which row triggers do not see.
"""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER cards_cardmovement_no_update BEFORE UPDATE ON cards_cardmovement "
            "BEGIN SELECT RAISE(ABORT, 'the card ledger is append-only'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION cards_cardmovement_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the card ledger is append-only'; END $$;"
        )
        schema_editor.execute(
            "CREATE TRIGGER cards_cardmovement_append_only BEFORE UPDATE OR DELETE ON cards_cardmovement "
            "FOR EACH ROW EXECUTE FUNCTION cards_cardmovement_append_only();"
        )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS cards_cardmovement_no_update;")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS cards_cardmovement_append_only ON cards_cardmovement;")
        schema_editor.execute("DROP FUNCTION IF EXISTS cards_cardmovement_append_only();")


class Migration(migrations.Migration):
    dependencies = [("cards", "0006_shipment_shortage")]
    operations = [migrations.RunPython(forwards, backwards)]

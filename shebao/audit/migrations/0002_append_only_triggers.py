"""The database itself refuses to change an audit row (and, on PostgreSQL, to delete one).

SQLite gets no DELETE trigger: Django's test flush empties tables with DELETE there; on PostgreSQL the
flush uses TRUNCATE, which row triggers do not see.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER audit_auditlog_no_update BEFORE UPDATE ON audit_auditlog "
            "BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
        )
    elif vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION audit_auditlog_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit rows are append-only'; END $$;"
        )
        schema_editor.execute(
            "CREATE TRIGGER audit_auditlog_append_only BEFORE UPDATE OR DELETE ON audit_auditlog "
            "FOR EACH ROW EXECUTE FUNCTION audit_auditlog_append_only();"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditlog_no_update;")
    elif vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS audit_auditlog_append_only ON audit_auditlog;")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_auditlog_append_only();")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

"""Drop the single-column indexes on payment lines that a composite index already leads with.

Written by hand: Django's AlterField(db_index=False) on `original` also drops every other
single-column index on that column, which on PostgreSQL includes the partial unique index
line_repaid_once (a failed line is paid again at most once). The FK index names are Django's own,
the same on SQLite and PostgreSQL.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("payments_paymentline_payroll_id_849f3905", "payroll_id"),  # line_payroll_bank_state_idx
    ("payments_paymentline_bank_file_id_efc59fcb", "bank_file_id"),  # line_unique_seq_in_file
    ("payments_paymentline_original_id_c231a317", "original_id"),  # line_repaid_once (partial)
]


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0007_survivor_claims"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="paymentline",
                    name="bank_file",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="payments.bankfile",
                    ),
                ),
                migrations.AlterField(
                    model_name="paymentline",
                    name="original",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="repayments",
                        to="payments.paymentline",
                        verbose_name="原明细",
                    ),
                ),
                migrations.AlterField(
                    model_name="paymentline",
                    name="payroll",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lines",
                        to="payments.payroll",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[f'DROP INDEX IF EXISTS "{name}"' for name, _ in INDEXES],
                    reverse_sql=[
                        f'CREATE INDEX IF NOT EXISTS "{name}" ON "payments_paymentline" ("{column}")'
                        for name, column in INDEXES
                    ],
                ),
            ],
        ),
    ]

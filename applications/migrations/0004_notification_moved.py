# Notification now belongs to hengyang_cbec.notifications (same table): state only.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("applications", "0003_evidence_withdrawn"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]

# Reference numbers now come from numbering.Counter (its migration 0002 copied the rows).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("applications", "0005_personal_data_purged_at"),
        ("numbering", "0002_move_counters"),
    ]

    operations = [
        migrations.DeleteModel(name="ReferenceCounter"),
    ]

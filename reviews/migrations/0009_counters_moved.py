# Notice and batch numbers now come from numbering.Counter (its migration 0002 copied the rows).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0008_objection_scan_state"),
        ("numbering", "0002_move_counters"),
    ]

    operations = [
        migrations.DeleteModel(name="DisbursementCounter"),
        migrations.DeleteModel(name="NoticeCounter"),
    ]

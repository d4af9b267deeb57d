"""An index for each level's last movement before a moment (the stock value report as of a
day), built without blocking the ledger's writes."""

from django.db import migrations, models

from inventory_project.kernel.operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("stock", "0006_stock_imports"),
    ]

    operations = [
        AddIndexOnline(
            model_name="stockmovement",
            index=models.Index(
                fields=["stock_level", "-created_at", "-version"], name="movement_level_time_idx"
            ),
        ),
    ]

# The Idempotency-Key store now belongs to the kernel (inventory_project.kernel), which
# took the table over; only stock's record of the model goes.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('kernel', '0001_initial'),
        ('stock', '0003_api_indexes_and_idempotent_requests'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='IdempotentRequest')],
        ),
    ]

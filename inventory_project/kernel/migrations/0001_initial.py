# The Idempotency-Key store moves from the stock app to the kernel: the state is taken over
# from stock's table as it is, then the table takes the kernel's name.

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('stock', '0003_api_indexes_and_idempotent_requests'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='IdempotentRequest',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('key', models.CharField(max_length=255)),
                        ('fingerprint', models.CharField(help_text='SHA-256 of the method, path and body of the request.', max_length=64)),
                        ('status_code', models.PositiveSmallIntegerField(null=True)),
                        ('response', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('user', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={'db_table': 'stock_idempotentrequest'},
                ),
                migrations.AddConstraint(
                    model_name='idempotentrequest',
                    constraint=models.UniqueConstraint(fields=('user', 'key'), name='idempotent_request_unique_key'),
                ),
            ],
        ),
        migrations.AlterModelTable(name='idempotentrequest', table=None),
    ]

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_alert_mail"),
    ]

    operations = [
        migrations.AddField(
            model_name="lowstockalert",
            name="mail_claim",
            field=models.UUIDField(
                blank=True, editable=False, null=True, verbose_name="e-mail claim"
            ),
        ),
        migrations.AddField(
            model_name="lowstockalert",
            name="mail_claimed_until",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="A worker is sending the e-mail; another may try once this has passed.",
                null=True,
                verbose_name="e-mail claimed until",
            ),
        ),
        migrations.AddConstraint(
            model_name="lowstockalert",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("mail_claim__isnull", True), ("mail_claimed_until__isnull", True)),
                    models.Q(("mail_claim__isnull", False), ("mail_claimed_until__isnull", False)),
                    _connector="OR",
                ),
                name="alert_mail_claim_whole",
            ),
        ),
    ]

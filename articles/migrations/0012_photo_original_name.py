from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0011_clean_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="photo",
            name="original_name",
            field=models.CharField(
                blank=True, db_default="", default="", editable=False, max_length=255, verbose_name="uploaded as"
            ),
        ),
    ]

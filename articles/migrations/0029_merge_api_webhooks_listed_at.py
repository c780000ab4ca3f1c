from django.db import migrations


class Migration(migrations.Migration):
    """API keys (0023), webhooks (0024) and the links' listing order (0026-0028), made side by side."""

    dependencies = [
        ("articles", "0023_api_keys"),
        ("articles", "0024_webhooks"),
        ("articles", "0028_listing_indexes_on_links"),
    ]

    operations = []

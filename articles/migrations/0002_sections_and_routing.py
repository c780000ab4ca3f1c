"""The desk's starting sections and keyword routing rules; editors refine both in the admin."""

from django.db import migrations

SECTIONS = [
    # slug, name, order, keywords
    ("world", "World", 0, []),
    ("middle-east", "Middle East", 10, [
        "Iran", "Iranian", "Tehran", "Israel", "Israeli", "Gaza", "Palestinian", "West Bank", "Lebanon",
        "Lebanese", "Hezbollah", "Syria", "Syrian", "Damascus", "Iraq", "Iraqi", "Baghdad", "Saudi", "Riyadh",
        "Yemen", "Houthi", "Jordan", "Qatar", "Kuwait", "Bahrain", "Oman", "Emirates", "UAE", "Egypt", "Cairo",
        "Netanyahu", "Hamas", "Araghchi", "Tel Aviv", "Jerusalem",
        "إيران", "إسرائيل", "غزة", "لبنان", "سوريا", "العراق", "السعودية", "اليمن", "مصر",
    ]),
    ("africa", "Africa", 20, [
        "Africa", "African", "Niger", "Nigeria", "Nigerian", "Mali", "Malian", "Burkina Faso", "Sudan",
        "Sudanese", "Ethiopia", "Somalia", "Kenya", "Libya", "Libyan", "Tunisia", "Algeria", "Morocco",
        "Senegal", "Chad", "Congo", "ECOWAS", "Sahel", "Niamey", "Bamako", "Khartoum",
    ]),
    ("europe", "Europe", 30, [
        "Europe", "European", "EU", "Russia", "Russian", "Moscow", "Kremlin", "Putin", "Ukraine", "Ukrainian",
        "Kyiv", "France", "French", "Paris", "Germany", "German", "Berlin", "Britain", "British", "London",
        "Italy", "Spain", "Poland", "NATO", "Brussels",
    ]),
    ("americas", "Americas", 40, [
        "United States", "Washington", "Trump", "Biden", "Canada", "Mexico", "Brazil", "Argentina",
        "Venezuela", "Colombia", "Cuba",
    ]),
    ("asia", "Asia", 50, [
        "China", "Chinese", "Beijing", "Japan", "Tokyo", "India", "Indian", "Pakistan", "Afghanistan",
        "Korea", "Korean", "Taiwan", "Indonesia", "Philippines", "Vietnam",
    ]),
]


def create(apps, schema_editor):
    Section = apps.get_model("articles", "Section")
    RoutingRule = apps.get_model("articles", "RoutingRule")
    for slug, name, order, keywords in SECTIONS:
        section, _ = Section.objects.get_or_create(
            slug=slug, defaults={"name": name, "order": order, "is_default": slug == "world"}
        )
        RoutingRule.objects.bulk_create(
            [RoutingRule(keyword=keyword, section=section) for keyword in keywords], ignore_conflicts=True
        )


class Migration(migrations.Migration):
    dependencies = [("articles", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

"""Fill AreaCodeState from phonenumbers' geocoder (run once, at migrate time)."""

from django.db import migrations

US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "Washington State": "WA", "Washington D.C.": "DC", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY",
}
# Any valid subscriber number of the area code will do; these cover every US area code.
SAMPLE_LOCAL_NUMBERS = ("5550142", "2345678", "4567890", "7654321")


def state_of(description: str) -> str | None:
    if "," in description:  # "Chicago, IL"
        return description.rsplit(",", 1)[1].strip() or None
    return US_STATES.get(description)


def fill(apps, schema_editor):
    import phonenumbers
    from phonenumbers import geocoder

    AreaCodeState = apps.get_model("delivery", "AreaCodeState")
    rows = []
    for area_code in range(200, 1000):
        for local in SAMPLE_LOCAL_NUMBERS:
            number = phonenumbers.parse(f"+1{area_code}{local}")
            if phonenumbers.region_code_for_number(number) != "US":
                break
            if not phonenumbers.is_valid_number(number):
                continue
            state = state_of(geocoder.description_for_number(number, "en"))
            if state:
                rows.append(AreaCodeState(area_code=str(area_code), state=state))
            break
    AreaCodeState.objects.bulk_create(rows)


def empty(apps, schema_editor):
    apps.get_model("delivery", "AreaCodeState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("delivery", "0004_area_code_state")]
    operations = [migrations.RunPython(fill, empty)]

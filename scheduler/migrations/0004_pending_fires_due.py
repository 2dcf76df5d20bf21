"""Fires left fetching by the version before the sweeper have no next attempt time: the sweeper
would never see them, and each would block its schedule's later fires for ever (they used to be
closed at the schedule's next fire). Give them one, an attempt's lease after their last change,
so the sweeper makes their next attempt, or fails them when none is left."""

from datetime import timedelta

from django.db import migrations
from django.db.models import F

# `scheduler.services.fires.ATTEMPT_LEASE` when this was written: an attempt still running
# keeps its worker until then.
LEASE = timedelta(seconds=660)


def pending_fires_due(apps, schema_editor):
    ScheduleFire = apps.get_model("scheduler", "ScheduleFire")
    ScheduleFire.objects.filter(outcome="pending", next_attempt_at__isnull=True).update(
        next_attempt_at=F("updated_at") + LEASE
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduler", "0003_fire_next_attempt"),
    ]

    operations = [
        migrations.RunPython(pending_fires_due, migrations.RunPython.noop),
    ]

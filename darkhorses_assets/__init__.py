"""DarkHorses: Dagster assets turning The Racing API into validated Postgres tables and point-in-time features."""

from darkhorses_assets.instance_settings import apply_event_settings

apply_event_settings()

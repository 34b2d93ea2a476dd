"""DarkHorses: Dagster assets turning The Racing API into validated Postgres tables and point-in-time features.

Importing any module of the package changes nothing in the process: what a Dagster process needs is applied
where one starts (`instance_settings.configure_dagster_process`).
"""

"""What keeps the platform current without a person: schedules (`schedules.py`), sensors (`sensors.py`),
declarative automation conditions (`conditions.py`), deadline freshness checks (`freshness.py`), failed-run
alerts (`failures.py`, `alerts.py`) and the on/off switch (`status.py`)."""

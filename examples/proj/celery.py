"""The project's Celery app: `celery -A proj worker` finds it here."""

from celery import Celery

app = Celery("proj", include=["proj.tasks"])
app.conf.update(
    # STARTED while a task runs, not PENDING until it is done.
    task_track_started=True,
    result_expires=3600,
)

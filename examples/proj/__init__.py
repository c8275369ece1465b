"""An example Celery project, laid out as Celery's tutorial lays one out.

A branch runs its workers with `--workdir=.../examples -A proj`; the broker
and the result backend come from the worker's environment
(`CELERY_BROKER_URL`, `CELERY_RESULT_BACKEND`), which the branch sets from
the app's `broker` and `backend`.
"""

"""The moderators' dashboard: a small server-rendered web app (FastAPI + Jinja).

``fakewatch dashboard`` serves it; :func:`dashboard.app.create_app` builds it.
It reads the verdict store (``db``) and submits uploads through the queue
(``queue_worker.client``); it never imports the model code, so it runs in the
light container with the bots.
"""

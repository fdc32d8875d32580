"""The BPM platform: deployment, instances, commands, human tasks, timers and history.

It knows nothing about appliances, Flask or Celery: callers hand it a SQLAlchemy session.
"""

"""Celery: a beat schedule and thin tasks that hand ids to plain engine functions."""

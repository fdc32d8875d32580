"""Dispatch: which outlet serves a job, and how far it travels."""

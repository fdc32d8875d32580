"""The product's processes and decision tables.

This folder installs as the package ``csm_bpmn`` (pyproject.toml), so an installed product
finds its files with ``importlib.resources`` (``webapp.resources``).
"""

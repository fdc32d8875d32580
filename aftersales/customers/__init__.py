"""Customers: who calls, their phones and addresses, and who may see them."""

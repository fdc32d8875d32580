"""Service orders: one generic case whatever its type; the types themselves are data."""

"""Values a role may change in the UI (the callback threshold)."""

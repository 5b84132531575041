"""Use cases: one method per user action, taking the acting user; access is checked here."""

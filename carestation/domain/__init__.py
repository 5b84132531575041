"""Plain-Python core: entities as values, rules and vocabularies. No Qt, no SQLAlchemy."""

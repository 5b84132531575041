"""SQLAlchemy models, engine set-up, units of work and the migration runner."""

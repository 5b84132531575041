"""Passwords, encryption at rest, the keyring-backed secret store and the audit chain."""

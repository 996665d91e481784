"""Shared fixtures of the unit tests (none yet: each test module builds what it needs)."""

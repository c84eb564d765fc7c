"""Operator-only AWS helpers: replaying a DLQ, reading queue depths."""

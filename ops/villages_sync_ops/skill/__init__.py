"""Operator-only skill tools: certification checks and request envelopes."""

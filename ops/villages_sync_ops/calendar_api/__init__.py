"""Operator-only calendar tools: the contract check, first contact, cassettes."""

"""Test support code: tiny Lambda handler modules (imported via monkeypatch.syspath_prepend)
and the SQS helpers the tiers share (support.sqs)."""

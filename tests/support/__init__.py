"""Test support code: tiny Lambda handler modules, imported via monkeypatch.syspath_prepend."""

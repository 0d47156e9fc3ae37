"""Placeholder: filled in by the sqlalchemy schema work."""
from __future__ import annotations


class _Stub:
    name = "sqlalchemy"

    def wants(self, source: str) -> bool:
        return False

    def facts(self, module, config):
        return ()


SOURCE = _Stub()

"""Placeholder: filled in by the django schema work."""
from __future__ import annotations


class _Stub:
    name = "django"

    def wants(self, source: str) -> bool:
        return False

    def facts(self, module, config):
        return ()


SOURCE = _Stub()

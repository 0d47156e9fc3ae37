"""Placeholder: filled in by the django adapters work."""
from __future__ import annotations


class _Stub:
    name = "django"

    def wants(self, source: str) -> bool:
        return False

    def sites(self, module, schema, config):
        return ()


ADAPTER = _Stub()

"""Placeholder: filled in by the supabase adapters work."""
from __future__ import annotations


class _Stub:
    name = "supabase"

    def wants(self, source: str) -> bool:
        return False

    def sites(self, module, schema, config):
        return ()


ADAPTER = _Stub()

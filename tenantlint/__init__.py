"""tenantlint: find database queries that can leak one tenant's data to another."""

__version__ = "0.1.0"

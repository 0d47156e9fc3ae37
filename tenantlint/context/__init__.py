"""Tenant contexts: where code is allowed to work across tenants, which functions bind a tenant context, and
whether a query can run outside one. No framework here: adapters report what the code shows."""

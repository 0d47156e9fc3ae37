"""tenantlint's rules, one module each; installed as the `tenantlint.rules` package.

A module is the registration: CODE, NAME, LEVEL, SITE_KINDS and check(site, ctx), documented in its docstring.
"""

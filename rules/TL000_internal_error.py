"""TL000 internal-error

What it finds: a bug in tenantlint itself: an adapter or rule raised an exception on this file.
Why it matters: the queries in this file were not (fully) checked; the run went on with the other files.
Bad:
    # any file that makes an adapter or rule fail; please report it with the file's shape
Good:
    # the same file after the bug is fixed
How to silence it: report the bug (run with --debug for the traceback); exclude the file meanwhile.
"""
from __future__ import annotations

CODE, NAME, LEVEL = "TL000", "internal-error", "error"
SECURITY_SEVERITY = "5.0"
SITE_KINDS: set = set()
ENGINE_DIAGNOSTIC = True


def check(site, ctx):
    return ()

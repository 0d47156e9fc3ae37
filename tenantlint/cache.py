"""Per-file results keyed by content hash, so a second run only re-analyses changed files.

Entries live under `<root>/.tenantlint_cache/<salt>/`; the salt covers tenantlint's code (version, and its modules' sizes and times) and the configuration
(and, for query results, the schema), so any change to those starts a fresh cache instead of serving stale results.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from tenantlint import __version__


def code_digest() -> str:
    """Size and modification time of tenantlint's own modules (rules included): an edited checkout, or a new
    release, never reads results an older analysis wrote."""
    package = Path(__file__).resolve().parent
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(package)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    try:
        import tenantlint.rules as rules_pkg

        for path in sorted(Path(rules_pkg.__path__[0]).glob("*.py")):
            st = path.stat()
            h.update(f"rules/{path.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    except (ImportError, IndexError, OSError):
        pass
    return h.hexdigest()[:16]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class FileCache:
    def __init__(self, folder: Path | None, salt: str):
        self.folder = folder / hashlib.sha256(f"{code_digest()}\0{salt}".encode()).hexdigest()[:16] if folder else None

    def get(self, kind: str, key: str) -> Any | None:
        if self.folder is None:
            return None
        try:
            with open(self.folder / kind / key, "rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None

    def has(self, kind: str) -> bool:
        """Whether any entry of this kind was ever written (under this salt)."""
        return self.folder is not None and (self.folder / kind).is_dir()

    def put(self, kind: str, key: str, value: Any) -> None:
        if self.folder is None:
            return
        target = self.folder / kind
        try:
            target.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target / key)  # atomic: concurrent workers never see half an entry
        except OSError:
            pass  # a read-only tree still gets checked, just without a cache

"""The smallest Django project the CLI tests need: an Organization and a tenant-owned Patient."""
from __future__ import annotations

from pathlib import Path

MODELS = """\
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=100)


class Patient(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
"""


def write_app(root: Path, **modules: str) -> Path:
    """`root/app/` with the models and the given modules (`views="..."`); returns root."""
    app = root / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS)
    for name, text in modules.items():
        (app / f"{name}.py").write_text(text)
    return root

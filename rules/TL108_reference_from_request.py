"""TL108 reference-from-request

What it finds: a write that points a tenant-owned row at another tenant-owned row by an id taken from the request (`Entry(food_id=data["food_id"])`, `.create(patient_id=request.POST["patient_id"])`, `qs.update(category_id=serializer.validated_data["category"])`), when nothing looks that id up in the tenant first. A serializer's `validated_data` counts as request input: an integer field checks the type, not the tenant. Also a Django `ModelForm`, DRF `ModelSerializer` or django-filter `FilterSet` whose `Meta.fields` list a relation it does not narrow: its choices are every tenant's rows.
Why it matters: the new row is in the right tenant, but it links to a row of another tenant; every later read that follows the link (`entry.food.name`, `select_related`, a nested serializer) shows that tenant's data, and some writes through it change their rows.
Bad:
    from clinic.models import Visit

    def book(request):
        return Visit.objects.create(organization=request.user.organization, patient_id=request.POST["patient_id"])
Good:
    from clinic.models import Visit

    def book(request):
        patient = Patient.objects.get(pk=request.POST["patient_id"], organization=request.user.organization)
        return Visit.objects.create(organization=request.user.organization, patient=patient)
How to silence it: # tenantlint: ignore[TL108] -- the serializer field's queryset is filtered by the request's tenant
"""
from __future__ import annotations

from tenantlint.types import SiteKind

CODE, NAME, LEVEL = "TL108", "reference-from-request", "warning"
SECURITY_SEVERITY = "6.5"
SITE_KINDS = {SiteKind.REFERENCE}


def check(site, ctx):
    if site.value_source == "request" and not site.cross_tenant:
        yield ctx.finding(site, f"{site.api}: {site.restriction.reason}")

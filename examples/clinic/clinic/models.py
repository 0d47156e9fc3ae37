"""A small multi-tenant clinic: every organization sees only its own stores, patients and orders."""
from django.conf import settings
from django.db import models


class Organization(models.Model):
    name = models.CharField(max_length=200)


class OrgOwned(models.Model):
    """Abstract base: the tenant foreign key sits here, not on each model."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)

    class Meta:
        abstract = True


class Store(OrgOwned):
    name = models.CharField(max_length=200)


class Patient(OrgOwned):
    name = models.CharField(max_length=200)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="patients")
    archived = models.BooleanField(default=False)
    status = models.CharField(max_length=20, default="active")


class Order(models.Model):
    """Owned only through its patient: scoped by patient__organization."""

    patient = models.ForeignKey("clinic.Patient", on_delete=models.CASCADE, related_name="orders")
    product = models.ForeignKey("clinic.Product", on_delete=models.PROTECT)
    quantity = models.IntegerField(default=1)


class Product(models.Model):
    """A global catalogue: rows with no organization are shared by every clinic."""

    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(max_length=200)


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="staff")

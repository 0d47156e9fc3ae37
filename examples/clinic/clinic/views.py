"""Views of the clinic app: some scoped correctly, a few deliberate leaks."""
from django.db.models import Q
from django.shortcuts import get_object_or_404

from clinic.models import Order, Patient, Product, Store


def patient_list(request):
    org = request.user.staff.organization
    return Patient.objects.filter(organization=org, archived=False)


def patient_detail(request, pk):
    # LEAK: any clinic can read any patient by guessing the id.
    return get_object_or_404(Patient, pk=pk)


def patient_detail_safe(request, pk):
    return get_object_or_404(Patient, pk=pk, organization=request.user.staff.organization)


def orders_for_patient(request, pk):
    patient = get_object_or_404(Patient, pk=pk, organization=request.user.staff.organization)
    return patient.orders.all()


def recent_orders(request):
    # LEAK: Order is owned through its patient; this reads every clinic's orders.
    return Order.objects.filter(quantity__gt=10).order_by("-id")[:50]


def recent_orders_safe(request):
    org = request.user.staff.organization
    return Order.objects.filter(patient__organization=org, quantity__gt=10)


def vip_patients(request):
    org = request.user.staff.organization
    # LEAK: the OR lets every clinic's VIP patients through.
    return Patient.objects.filter(Q(organization=org) | Q(status="vip"))


def catalogue(request):
    org = request.user.staff.organization
    return Product.objects.filter(Q(organization__isnull=True) | Q(organization=org))


def archive_store(request, store_id):
    # LEAK: archives matching patients of every clinic.
    Patient.objects.filter(store_id=store_id).update(archived=True)


def close_store(request, store_id):
    org = request.user.staff.organization
    Store.objects.filter(pk=store_id, organization=org).delete()


def register_patient(request):
    # LEAK: the new patient belongs to no clinic, and its store id comes from the form unchecked.
    return Patient.objects.create(name=request.POST["name"], store_id=request.POST["store"])


def search_patients(request, filters):
    # Unverifiable: the filter is built elsewhere.
    return Patient.objects.filter(**filters)


def orders_report(request):
    # LEAK: the clinic filter sits in the LEFT JOIN's ON clause, which restricts only the joined patients; the
    # orders of every clinic are listed.
    from django.db import connection

    org_id = request.user.staff.organization_id
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT o.id, o.quantity, p.name FROM clinic_order o "
            "LEFT JOIN clinic_patient p ON p.id = o.patient_id AND p.organization_id = %s",
            [org_id],
        )
        return cursor.fetchall()

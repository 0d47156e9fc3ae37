"""Django's queryset vocabulary: lookup operators, queryset methods by what they do, shortcuts."""
from __future__ import annotations

import re

from tenantlint.types import SiteKind


_OPERATORS = {
    "exact", "iexact", "in", "isnull", "contains", "icontains", "gt", "gte", "lt", "lte", "startswith",
    "istartswith", "endswith", "iendswith", "range", "regex", "iregex", "date", "year", "month", "day",
}
_PASS = {
    "all", "order_by", "select_related", "prefetch_related", "values", "values_list", "only", "defer", "distinct",
    "annotate", "alias", "using", "select_for_update", "reverse", "extra", "dates", "datetimes", "none",
    "filter_by_pk", "iterator", "union", "intersection", "difference",
}
_TERMINAL_READ = {
    "get", "first", "last", "count", "exists", "aggregate", "latest", "earliest", "in_bulk", "iterator",
    "explain", "contains", "afirst", "alast", "aget", "acount", "aexists", "aaggregate", "alatest", "aearliest",
    "ain_bulk", "aiterator", "acontains",
}
_FILTERS = {"filter", "get", "aget", "exclude"}
_WRITES = {"update": SiteKind.UPDATE, "aupdate": SiteKind.UPDATE, "delete": SiteKind.DELETE, "adelete": SiteKind.DELETE}
_CREATES = {"create", "acreate", "bulk_create", "abulk_create", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"}
_QS_METHODS = _PASS | _TERMINAL_READ | _FILTERS | set(_WRITES) | _CREATES | {"bulk_update", "abulk_update", "raw"}
# the managers every Django model has, whatever model is named before them (`self.__class__.objects`, `cls.objects`)
_DEFAULT_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_NOT_MANAGERS = {"DoesNotExist", "MultipleObjectsReturned", "_meta", "pk", "objects_raw"}
# a manager of a model picked at run time: `self.fields[f].Meta.model.objects`, `queryset.model._default_manager`
_RUNTIME_MODEL = re.compile(r"\b(?:model|model_class|model_cls|\w+_model)\.(?:objects|_default_manager|_base_manager)\b|\.get_object_for_this_type\(")
# calls that read one row: the object they return is a row in hand
_ONE_ROW = {"get", "aget", "first", "afirst", "last", "alast", "earliest", "latest", "one", "one_or_none", "scalar_one",
            "scalar_one_or_none", "scalar", "get_object_or_404", "aget_object_or_404", "first_or_404", "one_or_404", "get_or_404"}
_SHORTCUTS = {"get_object_or_404", "get_list_or_404", "aget_object_or_404", "aget_list_or_404"}
_TENANT_KEYS = {"id", "pk", "uuid", "slug", "string_id", "subdomain", "domain", "key", "public_id", "external_id"}
_ID_NAME = re.compile(r"(^|_)(id|ids|pk|pks|uuid|slug)$")

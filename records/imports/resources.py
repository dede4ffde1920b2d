"""django-import-export resources.

``ApplicationRowResource`` is the portal's file shape (the template and the export): one field per column of
``columns.COLUMNS``, named in Spanish, filled from the row dictionaries that ``exports`` builds set-based.
``StockApplicationResource`` is a plain ``ModelResource`` with default settings, the way most projects ship an
import; the benchmark runs it on the same rows to compare (bench/import_rows.py). The portal's import does not
go through ``Resource.import_data``: row-by-row saves cannot meet the all-or-nothing write of 100,000 rows in
seconds, so validation and the set-based write live in ``validation`` and ``services``.
"""

from collections import OrderedDict

from import_export import fields, resources

from records.models import Application

from .columns import Column, template_columns


def _field(column: Column) -> fields.Field:
    return fields.Field(attribute=column.key, column_name=column.es)


class ApplicationRowResource(resources.Resource):
    """The template/export shape, built for the columns a user is entitled to (identity columns only for those
    who may see identity data)."""

    def __init__(self, columns: list[Column]):
        super().__init__()
        self.columns = columns
        self.fields = OrderedDict((c.key, _field(c)) for c in columns)

    @classmethod
    def for_user(cls, *, with_identity: bool, with_institution: bool = True):
        return cls(template_columns(with_identity=with_identity, with_institution=with_institution))

    def get_export_headers(self, selected_fields=None):
        return [c.es for c in self.columns]

    def get_export_order(self):
        return tuple(c.key for c in self.columns)


class StockApplicationResource(resources.ModelResource):
    """A stock ModelResource with default settings: the peer in the benchmark."""

    class Meta:
        model = Application

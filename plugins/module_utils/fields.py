# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A resource's writable fields, declared once as data.

One Field per writable field of an API object drives everything a module does with it:
its option in the argument spec, the check of the value given, whether it is sent when the
object is created or only in an update, how a stored value compares with the wanted one,
and what the diff shows, and the option's and the returned field's documentation, which
scripts/field_docs.py writes into the modules (and the role) from the table. Adding a field to a
module is one Field(...) entry in the resource's field tuple, then `make docs`.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class Field(object):
    """One writable field of an API object, managed through the module option of the same name.

    check: a validation.* function (raw value -> normal form, ValueError when wrong); None when the
      resource checks a whole item at once (a rule: rule_model.parse_rule).
    on_create: whether the API takes the field when creating the object; otherwise the module
      sets it with an update right after the create.
    caseless: whether stored and wanted values compare without letter case.
    clearable: whether V('') is accepted and clears the field.
    spec: the option's argument spec entry.
    doc: the option's description (a list of sentences), returned: its description in the returned
      object, sample: a sample value there, version_added: the release that added it. The modules'
      option and return documentation is generated from these (scripts/field_docs.py).
    doc_in: where a module (or the role) documents the option in words of its own: module or role
      name -> description; the others use doc.
    returned_kind: the field's type in the returned object when it differs from the option's (an
      alias's forward is a list as an option, one comma-separated string as the API returns it).
    """

    writable = True

    def __init__(self, name, check, on_create=True, caseless=False, clearable=True, spec=None,
                 doc=(), returned=None, sample=None, version_added=None, returned_kind=None, doc_in=None):
        self.name = name
        self.check = check
        self.on_create = on_create
        self.caseless = caseless
        self.clearable = clearable
        self.spec = spec or dict(type='str')
        self.doc = list(doc)
        self.doc_in = dict(doc_in or {})
        self.returned = returned
        self.sample = sample
        self.version_added = version_added
        self._returned_kind = returned_kind
        self.elements = None if returned_kind else self.spec.get('elements')

    @property
    def returned_kind(self):
        """The field's type in the returned object."""
        return self._returned_kind or self.kind

    def doc_for(self, context):
        """The option's description where a module or the role (by its name) documents it."""
        return list(self.doc_in.get(context, self.doc))

    def normal(self, value):
        """The checked value of the option; '' clears a clearable text field."""
        if self.clearable and self.kind == 'str' and isinstance(value, str) and value.strip() == '':
            return ''
        return self.check(value)

    @property
    def kind(self):
        """The option's type: str, bool, int, list, ..."""
        return self.spec.get('type', 'str')

    def unset(self, value):
        """Whether a value means the field is unset: None, and '' for a text field (never False or 0)."""
        return value is None or (self.kind == 'str' and value == '')

    def same(self, stored, wanted):
        """Whether the stored value already is the wanted one.

        For a text field None and '' both mean unset; for a bool or a number None is unset and
        False or 0 is a value, so unset and False differ.
        """
        if self.kind == 'str':
            stored = '' if stored is None else stored
            wanted = '' if wanted is None else wanted
        if self.caseless and isinstance(stored, str) and isinstance(wanted, str):
            return stored.lower() == wanted.lower()
        return stored == wanted


class Returned(object):
    """A read-only field of an API object: only documented where the object is returned."""

    writable = False

    def __init__(self, name, kind, returned, sample=None, version_added=None, elements=None):
        self.name = name
        self.kind = kind
        self.returned = returned
        self.sample = sample
        self.version_added = version_added
        self.elements = elements

    @property
    def returned_kind(self):
        """The field's type in the returned object."""
        return self.kind


def returned(table):
    """The fields of an object's table that the returned object shows, in its order."""
    return tuple(field for field in table if field.returned)


def writable(table):
    """The writable fields (Field) of an object's table, in its order."""
    return tuple(field for field in table if field.writable)


def field_options(fields):
    """The argument spec entries of the fields."""
    return dict((field.name, dict(field.spec)) for field in fields)


def wanted_values(params, fields):
    """The fields the task manages (options that were given), checked: dict name -> value.

    Raises ValueError with 'option problem' when a value is wrong.
    """
    wanted = {}
    for field in fields:
        value = params.get(field.name)
        if value is None:
            continue
        try:
            wanted[field.name] = field.normal(value)
        except ValueError as exc:
            raise ValueError('%s %s' % (field.name, exc))
    return wanted


def changed_values(fields, stored, wanted):
    """The wanted values that differ from the stored object: the body of an update."""
    stored = stored or {}
    return dict((field.name, wanted[field.name]) for field in fields
                if field.name in wanted and not field.same(stored.get(field.name), wanted[field.name]))


def create_values(fields, wanted):
    """The wanted values a create request takes: unset ones are left out, False and 0 are sent."""
    return dict((field.name, wanted[field.name]) for field in fields
                if field.on_create and field.name in wanted and not field.unset(wanted[field.name]))


def has_values(fields, stored, wanted):
    """Whether the stored object holds every wanted value (how a re-read confirms an update)."""
    return stored is not None and not changed_values(fields, stored, wanted)


def field_view(fields, obj, managed, **identity):
    """What the diff shows of an object: its identity and the managed fields; {} when it is absent."""
    if obj is None:
        return {}
    view = dict(identity)
    for field in fields:
        if field.name in managed:
            view[field.name] = obj.get(field.name)
    return view

# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A domain's set of SMTP credentials, as improvmx_domains declares it: checks, plan, convergence, export.

The API never gives a password back: a credential is compared by its user name and is_limited,
and a password is sent only to create a credential or with update_password=always.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple

from ansible_collections.improvmx.email.plugins.module_utils.credentials import check_password, limited_flag
from ansible_collections.improvmx.email.plugins.module_utils.fields import Field, Returned, field_options, writable
from ansible_collections.improvmx.email.plugins.module_utils.validation import checked_entries, mailbox_name

# The credential object as data, in the order the documentation shows it. The writable fields (Field)
# are the options of improvmx_credential and of improvmx_domains' credentials[] entries (their argument
# specs come from here). Their option documentation and the returned credential object's documentation
# of improvmx_credential and improvmx_credential_info are generated from this table (scripts/field_docs.py,
# make docs).
# A credential is created with username, password and is_limited (POST .../credentials); an update
# (PUT .../credentials/:username) sends the password only with update_password=always, and is_limited
# only when given (None: not managed; False is a value). The password is write-only: no_log, never
# returned, never compared (returned=None keeps it out of every returned object).
CREDENTIAL_OBJECT = (
    Field('username', mailbox_name, caseless=True, clearable=False,
          doc=['The user name of the credential, the left part of the mailbox it sends as; V(bighead) for '
               'C(bighead@example.com).',
               'Letters, digits, dots, hyphens, underscores and plus signs; it is lower-cased. A full address (with '
               'V(@)) or the catch-all V(*) is refused.'],
          doc_in=dict(
              improvmx_domains=['The user name, the part before the C(@) (compared without case).'],
              domain_onboarding=['The user name, the part before the C(@) of the address it sends as.']),
          spec=dict(type='str', required=True),
          returned='The user name, the left part of the mailbox.', sample='newsletter'),
    Field('password', check_password, clearable=False, spec=dict(type='str', no_log=True),
          doc=['The password of the credential.',
               'Required when the credential must be created, and with O(update_password=always). With '
               'O(update_password=on_create) it is not used for a credential that already exists.',
               "It is never shown in the module's output, errors or diffs. The API decides which passwords it accepts;"
               " when it refuses one, the task fails with the API's explanation."],
          doc_in=dict(
              improvmx_domains=['The password; never shown in output, also not at C(-vvv).',
                                'Needed to create the credential, and with '
                                'O(domains[].credentials[].update_password=always).'],
              domain_onboarding=['The password. Required to create the credential, and with '
                                 'O(domain_onboarding_credentials.update_password=always).'])),
    Returned('usage', 'int', 'How many e-mails were sent with the credential.', sample=0),
    Returned('created', 'int', 'When the credential was created, in milliseconds since the epoch.', sample=1588236952000),
    Field('is_limited', bool, clearable=False, spec=dict(type='bool'),
          doc=["Whether the credential may only send as the domain's existing aliases (V(true)), or as any address of "
               'the domain (V(false)).',
               "Left out, the flag is not managed (a new credential gets the API's default).",
               'Compared with the credential list, so a rerun changes nothing. A new credential gets it in its create '
               'request; an existing one is changed with an update of the credential that sends only this flag.',
               "When the API's credential list does not report the flag for an existing credential, the module cannot "
               'compare it, so it warns and leaves the flag as it is.'],
          doc_in=dict(
              improvmx_domains=["Whether the credential may send only as the domain's aliases. Left out, it is not "
                                'managed.']),
          returned="Whether the credential may only send as the domain's existing aliases (when the API says).",
          sample=False),
)
# Not a field of the object: when the password is sent.
UPDATE_PASSWORD_OPTION = dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False)


def credential_options(**extra):
    """The argument spec of a credential: its writable fields, update_password, and extra options."""
    options = field_options(writable(CREDENTIAL_OBJECT))
    options['update_password'] = dict(UPDATE_PASSWORD_OPTION)
    options.update(extra)
    return options


# One entry of improvmx_domains' domains[].credentials (documented there); checked by domain_set.checked_options().
CREDENTIAL_ENTRY = credential_options()
CREDENTIAL_ENTRY['username'] = dict(CREDENTIAL_ENTRY['username'], aliases=['name'])


class WantedCredential(namedtuple('WantedCredential', ['username', 'password', 'always', 'is_limited', 'where'])):
    """One declared credential: its user name (normal form), password (None: not given), whether the
    password is set on every run (update_password=always), is_limited (None: not managed), and where
    it was declared (for messages)."""

    __slots__ = ()


def parse_credentials(entries):
    """Check the credentials of one domain entry; a list of WantedCredential. ValueError names every problem.

    The password never appears in a message.
    """
    wanted = []
    problems = []
    seen = {}
    for where, name, raw, entry in checked_entries(entries, 'username', mailbox_name, 'username', problems):
        password = entry.get('password')
        if password is not None:
            try:
                password = check_password(password)
            except ValueError as exc:
                problems.append('%s: password %s' % (where, exc))
                continue
        always = entry.get('update_password') == 'always'
        if always and password is None:
            problems.append('%s: password is required with update_password=always' % where)
            continue
        if name in seen:
            problems.append('%s: the user name %s is listed twice (also as %r)' % (where, name, seen[name]))
            continue
        seen[name] = raw
        wanted.append(WantedCredential(name, password, always, entry.get('is_limited'), where))
    if problems:
        raise ValueError('; '.join(problems))
    return wanted


class CredentialPlan(namedtuple('CredentialPlan', ['current', 'create', 'passwords', 'limited', 'remove', 'unknown'])):
    """What converging a domain's credentials takes.

    current: user name -> credential (public fields); create: WantedCredential to add; passwords:
    WantedCredential whose password is set again (update_password=always); limited: (WantedCredential,
    credential) whose is_limited differs; remove: credentials a purge deletes; unknown: WantedCredential
    whose is_limited cannot be compared (the API does not report it).
    """

    __slots__ = ()

    def __bool__(self):
        return bool(self.create or self.passwords or self.limited or self.remove)

    __nonzero__ = __bool__


def plan_credentials(current, wanted, purge=False):
    """The plan that turns a domain's credentials (a list from the API) into the wanted ones."""
    index = dict((str(item.get('username', '')).lower(), item) for item in current or [] if isinstance(item, dict))
    create, passwords, limited, unknown = [], [], [], []
    for want in wanted:
        found = index.get(want.username)
        if found is None:
            create.append(want)
            continue
        if want.always:
            passwords.append(want)
        if want.is_limited is not None:
            known, value = limited_flag(found)
            if not known:
                unknown.append(want)
            elif value != want.is_limited:
                limited.append((want, found))
    names = set(want.username for want in wanted)
    remove = [item for key, item in index.items() if purge and key not in names]
    return CredentialPlan(index, create, passwords, limited, remove, unknown)


def missing_passwords(plan, domain):
    """Sentences for the credentials a plan creates without a password (the API needs one to create)."""
    return ['%s: password is required to create the SMTP credential %s@%s, which does not exist' % (want.where, want.username, domain)
            for want in plan.create if want.password is None]


class CredentialSync(object):
    """Converge the SMTP credentials of one domain on a plan; remembers what it applied."""

    def __init__(self, credentials, check_mode=False):
        self.credentials = credentials
        self.check_mode = check_mode
        self.added = []
        self.updated = []
        self.removed = []
        self.final = {}
        self.requires_check = False

    @property
    def applied(self):
        return bool(self.added or self.updated or self.removed)

    def run(self, plan):
        """Apply (or, in check mode, predict) the plan; self.final maps user names to credentials afterwards."""
        self.final = dict(plan.current)
        first = not plan.current
        for want in plan.create:
            if self.check_mode:
                self.final[want.username] = self.shown({'username': want.username}, want.is_limited)
                self.requires_check = self.requires_check or first
            else:
                created, obj, requires = self.credentials.create(want.username, want.password, first, is_limited=want.is_limited)
                if not created and want.always:
                    obj = self.credentials.set_password(want.username, want.password, obj)
                if not created and not want.always:
                    self.final[want.username] = obj  # another run added it meanwhile: as wanted, not a change of this run
                    continue
                self.final[want.username] = obj
                self.requires_check = self.requires_check or requires
            first = False
            self.added.append(want.username)
        for want in plan.passwords:
            if not self.check_mode:
                self.final[want.username] = self.credentials.set_password(want.username, want.password, self.final[want.username])
            self.note_updated(want.username)
        for want, current in plan.limited:
            if self.check_mode:
                self.final[want.username] = dict(current, is_limited=want.is_limited)
            else:
                self.final[want.username] = self.credentials.set_limited(want.username, want.is_limited, current)
            self.note_updated(want.username)
        for current in plan.remove:
            username = str(current.get('username'))
            if self.check_mode or self.credentials.discard(username):
                self.removed.append(username.lower())
            self.final.pop(username.lower(), None)

    @staticmethod
    def shown(obj, is_limited):
        return dict(obj, is_limited=is_limited) if is_limited is not None else obj

    def note_updated(self, username):
        if username not in self.updated and username not in self.added:
            self.updated.append(username)


def credentials_view(credentials):
    """A domain's credentials for the diff: user name -> {is_limited} (never a password)."""
    view = {}
    for key, obj in (credentials or {}).items():
        known, value = limited_flag(obj)
        view[key] = {'is_limited': value} if known else {}
    return view


def export_credentials(credentials):
    """A domain's credentials as improvmx_domains' domains[].credentials: user names and is_limited, no password."""
    entries = []
    for obj in credentials or []:
        if not isinstance(obj, dict) or not obj.get('username'):
            continue
        entry = {'username': obj['username']}
        known, value = limited_flag(obj)
        if known:
            entry['is_limited'] = value
        entries.append(entry)
    return entries

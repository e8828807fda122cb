# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SMTP credentials of a domain: /domains/:domain/credentials/, what to do, and errors without the password.

The API never gives a password back, so the only facts a module can read are which
user names exist on a domain; everything here works from that.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple

from ansible_collections.improvmx.email.plugins.module_utils import api
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, ImprovMXNotFound, api_path
from ansible_collections.improvmx.email.plugins.module_utils.resource import Confirmed, DomainMissing, Resource, unwrap
from ansible_collections.improvmx.email.plugins.module_utils.validation import checked_entries, mailbox_name

REDACTED = api.REDACTED

PUBLIC_FIELDS_EXCLUDED = ('password',)

PREMIUM_REQUIRED = ('SMTP credentials need a premium ImprovMX plan, and this account does not have one '
                    '(or its plan does not include SMTP credentials); upgrade the account on the ImprovMX '
                    'dashboard to manage them')


def credentials_path(domain, username=None):
    """The API path of a domain's credential list, or of one credential."""
    if username is None:
        return api_path('domains', domain, 'credentials', collection=True)
    return api_path('domains', domain, 'credentials', username)


def public_credential(obj):
    """A credential as modules return it: what the API gave, minus anything that could hold a password."""
    if not isinstance(obj, dict):
        return {}
    return dict((key, value) for key, value in obj.items()
                if not any(word in str(key).lower() for word in PUBLIC_FIELDS_EXCLUDED))


def list_credentials(client, domain):
    """Every credential of the domain (public fields only); DomainMissing when the domain does not exist."""
    try:
        answer = client.get(credentials_path(domain))
    except ImprovMXNotFound as exc:
        raise DomainMissing(domain, exc)
    items = (answer or {}).get('credentials') or []
    return [public_credential(item) for item in items if isinstance(item, dict)]


def credential_view(domain, credential, password_set):
    """What the diff shows of a credential ({} when absent): never a password, only whether one was set."""
    if not credential:
        return {}
    return {'domain': domain, 'username': credential.get('username'), 'password_set': password_set}


def limited_flag(credential):
    """(known, value) of a credential's is_limited: known is False when the API did not report it."""
    credential = credential or {}
    return 'is_limited' in credential, credential.get('is_limited')


def find_credential(credentials, username):
    """The credential with this user name (compared without case), or None."""
    wanted = username.lower()
    for credential in credentials:
        if str(credential.get('username', '')).lower() == wanted:
            return credential
    return None


def plan_present(exists, update_password, password_given):
    """What state=present must do: 'create', 'update' or None (nothing).

    Raises ValueError with the sentence to show when the password is needed and missing.
    """
    if not exists:
        if not password_given:
            raise ValueError('password is required to create the SMTP credential, which does not exist yet')
        return 'create'
    if update_password == 'always':
        if not password_given:
            raise ValueError('password is required with update_password=always')
        return 'update'
    return None


def check_password(value):
    """Reject a password that cannot be meant; its value never appears in the message."""
    if not isinstance(value, str):
        raise ValueError('must be a string')
    if value == '':
        raise ValueError('is empty: give the password the SMTP credential should have')
    if not value.strip():
        raise ValueError('is only white space: give the password the SMTP credential should have')
    return value


def redact(value, secrets):
    """Replace every secret found in value (a string, or lists and dicts of them) with REDACTED.

    The mechanism lives in the client (api.redact): every form of a secret (as is, with white
    space changed, JSON-escaped, URL-encoded) is replaced. A module that holds a password should
    also register it with client.add_secret(), so that the client's own messages and api_retries
    never show it.
    """
    return api.redact(value, secrets)


def explain_error(error, secrets=()):
    """An ImprovMXError fit to show: the premium plan spelled out for 403, secrets removed."""
    if not isinstance(error, ImprovMXError):
        return error
    message = str(error)
    if error.status == 403:
        message = '%s. The API answered: %s' % (PREMIUM_REQUIRED, message)
    explained = ImprovMXError(
        redact(message, secrets),
        method=error.method,
        path=error.path,
        status=error.status,
        errors=redact(error.errors, secrets) if error.errors else error.errors,
        ambiguous=error.ambiguous,
        timeout=error.timeout,
    )
    return explained


def dkim_warning(domain, username, check_mode=False):
    """The warning for requires_new_mx_check: the domain's first credential needs two DKIM CNAME records."""
    verb = 'would be' if check_mode else 'is'
    return ('The SMTP credential %s@%s %s the first of the domain, so ImprovMX now signs its mail with DKIM: '
            'the domain needs two new DKIM CNAME records in its DNS and is marked invalid until they exist. '
            'Run improvmx.email.improvmx_domain_check for domain %s to see the exact records to add.'
            % (username, domain, verb, domain))


class Credentials(Resource):
    """The SMTP credentials of one domain; objects are the public fields of the API's credentials."""

    def __init__(self, client, domain):
        super(Credentials, self).__init__(client)
        self.domain = domain

    def list(self):
        """Every credential of the domain; DomainMissing when the domain is not in the account."""
        return list_credentials(self.client, self.domain)

    def fetch(self, username):
        """One credential, or None when it (or its domain) is not there."""
        try:
            return find_credential(self.list(), username)
        except DomainMissing:
            return None

    def create(self, username, password, first, is_limited=None):
        """Add a credential: (created, credential, requires_new_mx_check).

        first says whether the domain had no credential before (the one that requires the
        new DKIM check, when the answer is lost). created is False when another run added it first.
        is_limited (a bool) is sent when given.
        """
        data = {'username': username, 'password': password}
        if is_limited is not None:
            data['is_limited'] = is_limited
        created, answer = super(Credentials, self).create(
            credentials_path(self.domain), data, 'credential',
            reread=lambda: self.fetch(username), raw=True)
        if not created:
            return False, answer, False
        if isinstance(answer, Confirmed):
            return True, answer.value, first
        credential = public_credential(unwrap(answer, 'credential')) or self.fetch(username) or {'username': username}
        return True, credential, bool((answer or {}).get('requires_new_mx_check'))

    def set_password(self, username, password, current):
        """PUT a new password; returns the credential.

        The password cannot be read back to confirm a PUT whose answer was lost; the same PUT
        again sets the same password, so the client sends it once more instead.
        """
        try:
            answer = self.write('PUT', credentials_path(self.domain, username), {'password': password},
                                'credential', idempotent=True)
        except ImprovMXError as exc:
            if exc.ambiguous:
                exc.message = ('%s. The password cannot be read back, so whether it was changed is unknown; '
                               'running the task again is safe (it sets the same password)' % exc.message)
            raise
        return public_credential(answer) or current

    def set_limited(self, username, is_limited, current):
        """PUT is_limited (whether the credential may only send as the domain's aliases); returns the credential."""
        answer = self.write('PUT', credentials_path(self.domain, username), {'is_limited': is_limited}, 'credential',
                            reread=lambda: self.fetch(username),
                            applied=lambda now: now is not None and now.get('is_limited') == is_limited)
        return public_credential(answer) or dict(current or {}, is_limited=is_limited)

    def discard(self, username):
        """Delete a credential: True when this run removed it, False when another run had."""
        return self.delete(credentials_path(self.domain, username), reread=lambda: self.fetch(username))


# -- a domain's set of credentials, as improvmx_domains declares it -----------------------------------------------

# One entry of improvmx_domains' domains[].credentials (documented there); checked by domain_set.checked_options().
CREDENTIAL_ENTRY = dict(
    username=dict(type='str', required=True, aliases=['name']),
    password=dict(type='str', no_log=True),
    update_password=dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False),
    is_limited=dict(type='bool'),
)


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

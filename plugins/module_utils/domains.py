# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The domains of the account: /domains/ and /domains/:domain, and the domain's writable fields."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.aliases import Aliases, index_current
from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.fields import Field, Returned, changed_values, create_values, has_values, writable
from ansible_collections.improvmx.email.plugins.module_utils.resource import Resource, TaskError
from ansible_collections.improvmx.email.plugins.module_utils.validation import domain_name, email_address, http_url

# GET /domains/ and GET /domains/:domain embed at most this many aliases in each domain.
EMBEDDED_ALIASES_LIMIT = 200

ROUTING_ENGINES = ('alias', 'rules')


def routing_engine(value):
    """A checked routing engine: alias or rules."""
    engine = str(value).strip().lower()
    if engine not in ROUTING_ENGINES:
        raise ValueError('%r is not a routing engine: use alias or rules' % (value,))
    return engine


class RoutingEngineField(Field):
    """routing_engine: the API stores an empty value for alias routing (api-facts, "Domains")."""

    def same(self, stored, wanted):
        return str(stored or 'alias').lower() == str(wanted or 'alias').lower()


# The domain object as data: every field the API returns, in the order the documentation shows them.
# The writable ones (Field) are module options too, in the order the diff shows them. POST /domains/
# does not take a webhook; routing_engine is not in the API reference: it is sent with the domain's
# PUT only, the way inferred from the live API (shared api-facts, "Rules routing"). The modules'
# option and return documentation is generated from this table: scripts/field_docs.py (make docs).
ROUTING_ENGINE_FIELD = RoutingEngineField(
    'routing_engine', routing_engine, on_create=False, clearable=False, spec=dict(type='str', choices=list(ROUTING_ENGINES)),
    doc=['How the domain routes its mail - V(alias) by its aliases, V(rules) by its routing rules '
         '(see M(improvmx.email.improvmx_rules)). A domain whose routing engine is V(rules) ignores its aliases.',
         'The API stores an empty value for V(alias); the two are the same here.',
         'Not in ImprovMX\'s API reference - it is sent with the domain\'s update (C(PUT), also right after adding '
         'a new domain), as inferred from the live API. When the API refuses it, or answers without applying it, '
         'the task fails saying so.',
         'Left out, it is not managed.'],
    returned=['How the domain routes mail, V(alias) (by its aliases) or V(rules) (by its rules); empty means V(alias).',
              'When it is V(rules), the domain\'s aliases do not route mail.'],
    sample='alias', version_added='1.1.0')
DOMAIN_OBJECT = (
    Returned('domain', 'str', 'The domain name (IDNA form).', sample='example.com'),
    Returned('display', 'str', 'The domain name for display (Unicode form).', sample='example.com'),
    Returned('active', 'bool', "Whether ImprovMX sees the domain's MX records and forwards its e-mail.", sample=True),
    Field('notification_email', email_address, caseless=True,
          doc=['Where ImprovMX sends notifications about this domain.', "V('') clears it. Left out, it is not managed."],
          returned='Where notifications about the domain go.', sample='postmaster@example.org'),
    Field('webhook', http_url, on_create=False,
          doc=["An V(http://) or V(https://) URL that receives the domain's e-mail events as POST requests.",
               "V('') clears it. Left out, it is not managed."],
          returned="The URL that receives the domain's e-mail events.", sample='https://hooks.example.org/improvmx'),
    Field('whitelabel', domain_name, caseless=True,
          doc=["The parent domain shown in the DNS settings instead of ImprovMX's (a whitelabel of the account, see "
               "M(improvmx.email.improvmx_account_info)).", "V('') clears it. Left out, it is not managed."],
          returned='The whitelabel parent domain.'),
    Returned('dkim_selector', 'str', ['The DKIM selector of the domain; its DKIM records are C(<selector>1._domainkey.<domain>) '
                                      'and C(<selector>2._domainkey.<domain>) (see M(improvmx.email.improvmx_domain_check)).'],
             sample='dkimprovmx'),
    ROUTING_ENGINE_FIELD,
    Returned('banned', 'bool', 'Whether ImprovMX has banned the domain (it then forwards no mail).', sample=False),
    Returned('daily_quota', 'int', 'The number of e-mails the domain may receive a day, when the API says; V(null) when it '
             'sets none.'),
    Returned('strict_mxes', 'bool', ["Whether the domain's MX check is strict, as the live API answers it (not in the 2020 API "
                                     'reference; see docs/api-behaviour.md). Returned as the API gives it; absent when the '
                                     'API does not send it.'], sample=False, version_added='1.1.0'),
    Returned('added', 'int', 'When the domain was added, in milliseconds since the epoch.', sample=1559652806000),
    Returned('aliases', 'list', ['Aliases of the domain. The API caps this list at 200 entries; use '
                                 'M(improvmx.email.improvmx_alias_info) for all of them.'],
             sample=[{'alias': '*', 'forward': 'owner@example.org', 'id': 3, 'created': 1702393755000}], elements='dict'),
)
DOMAIN_FIELDS = writable(DOMAIN_OBJECT)

ROUTING_ENGINE_INFERRED = (
    'routing_engine is not in the ImprovMX API reference: this collection sends it with the domain\'s '
    'PUT /domains/:domain, the way inferred from the live API and the vendor\'s command-line client, '
    'and the API did not take it')


def wanted_engine(values):
    """The routing_engine a task asks for (None: not managed)."""
    return (values or {}).get('routing_engine')


def stored_engine(domain):
    """The routing_engine of a domain object (None when the API does not say)."""
    return (domain or {}).get('routing_engine')


def explain_routing_engine(error, sent):
    """An API refusal of a domain update that carried routing_engine, said clearly (the error as it is otherwise)."""
    if not sent or not isinstance(error, ImprovMXError) or error.method != 'PUT' or error.status not in (400, 405, 422):
        return error
    if isinstance(error.errors, dict) and error.errors and 'routing_engine' not in error.errors:
        return error  # the API named other fields: not about routing_engine
    return ImprovMXError('%s (routing_engine=%s). The API answered: %s' % (ROUTING_ENGINE_INFERRED, sent, error),
                         method=error.method, path=error.path, status=error.status, errors=error.errors,
                         ambiguous=error.ambiguous, timeout=error.timeout)


class FieldsNotTaken(TaskError):
    """A domain update the API answered with other values than the ones sent: the fields were not taken.

    untaken lists (field name, value sent, value answered); changed says whether the run changed the
    domain all the same (it created it, or another field of the update was taken); domain is the answer.
    """

    def __init__(self, name, untaken, changed, domain):
        parts = []
        for field, sent, answered in untaken:
            if field == ROUTING_ENGINE_FIELD.name:
                parts.append('%s: it answered with routing_engine=%r instead of %r' % (ROUTING_ENGINE_INFERRED, answered, sent))
            else:
                parts.append('the API did not take %s: it answered with %s=%r instead of %r' % (field, field, answered, sent))
        super(FieldsNotTaken, self).__init__('domain %s: %s' % (name, '; '.join(parts)), domain=domain)
        self.untaken = untaken
        self.changed = changed
        self.domain = domain


def not_taken(changes, answer, fields=DOMAIN_FIELDS):
    """(field, sent, answered) for each field of an update that the API's answer shows with another value.

    A field the answer leaves out is not judged (the API did not say); None and '' are the same.
    """
    if not isinstance(answer, dict):
        return []
    return [(field.name, changes[field.name], answer.get(field.name)) for field in fields
            if field.name in changes and field.name in answer and not field.same(answer.get(field.name), changes[field.name])]


def say_created(error, name, changes):
    """Make the failure of the update that follows a create say the domain exists now (the task reports a change)."""
    error.message = 'the domain %s was created, but setting %s on it afterwards failed: %s' % (
        name, ', '.join(sorted(changes)), error.message)


def checked_update(domains, name, changes, created=False):
    """PUT the changes and check the answer took each of them: the domain as stored afterwards.

    Raises FieldsNotTaken naming every field the API answered with another value; its changed
    is true only when the domain was created by this run or another field was taken.
    """
    after = domains.update(name, changes) or None
    untaken = not_taken(changes, after)
    if untaken:
        raise FieldsNotTaken(name, untaken, created or len(untaken) < len(changes), after)
    return after


class Domains(Resource):
    """GET, list, POST, PUT and DELETE of domains; objects are the API's domain dicts."""

    def path_of(self, name=None):
        if name is None:
            return self.path('domains', collection=True)
        return self.path('domains', name)

    def fetch(self, name):
        """The domain, or None when it is not in the account."""
        return self.read(self.path_of(name), 'domain')

    def iterate(self, q=None, is_active=None):
        """Every domain of the account (all pages), optionally filtered by name prefix and activity."""
        params = {}
        if q is not None:
            params['q'] = q
        if is_active is not None:
            params['is_active'] = 1 if is_active else 0
        return self.client.paginate(self.path_of(), 'domains', params=params)

    def create(self, name, values):
        """Add the domain with values (only those POST takes): (True, domain), or (False, current) when it was there."""
        payload = {'domain': name}
        payload.update(values)
        return super(Domains, self).create(self.path_of(), payload, 'domain', reread=lambda: self.fetch(name))

    def update(self, name, changes):
        """PUT changed fields; returns the domain as stored afterwards."""
        return self.write('PUT', self.path_of(name), changes, 'domain', reread=lambda: self.fetch(name),
                          applied=lambda now: has_values(DOMAIN_FIELDS, now, changes))

    def discard(self, name):
        """Delete the domain: True when this run removed it, False when another run had."""
        return self.delete(self.path_of(name), reread=lambda: self.fetch(name))


class DomainTask(object):
    """One domain made present with the wanted field values, or absent: what improvmx_domain runs.

    Like AliasTask, RuleTask and CredentialTask, present() and absent() return (changed, before, after);
    before is None when the domain was created by this run, after None when it is gone; in check mode
    only reads are sent and after is predicted.
    """

    def __init__(self, domains, check_mode=False):
        self.domains = domains
        self.check_mode = check_mode

    def present(self, name, wanted):
        """The domain with the wanted values.

        When the update after a create fails, the ImprovMXError raised says the domain was created and
        carries it as its created attribute.
        """
        current = self.domains.fetch(name)
        created = False
        if current is None:
            if self.check_mode:
                return True, None, dict(wanted, domain=name)
            created, current = self.domains.create(name, create_values(DOMAIN_FIELDS, wanted))
        changes = changed_values(DOMAIN_FIELDS, current, wanted)
        before = None if created else current
        if not changes:
            return created, before, current
        if self.check_mode:
            return True, before, dict(current, **changes)
        try:
            return True, before, checked_update(self.domains, name, changes, created)
        except ImprovMXError as exc:
            if created:
                say_created(exc, name, changes)
                exc.created = current
            raise

    def absent(self, name):
        """The domain gone; a domain another run removed meanwhile is absent all the same (no change)."""
        before = self.domains.fetch(name)
        if before is None:
            return False, None, None
        if not self.check_mode and not self.domains.discard(name):
            return False, None, None
        return True, before, None


def embedded_aliases(domain):
    """The alias set a domain object embeds (name -> alias object), or None when it may be incomplete.

    The API embeds at most EMBEDDED_ALIASES_LIMIT aliases; a domain that embeds that many (it may
    have more), or whose list is missing or holds something other than alias objects, must be listed.
    """
    items = domain.get('aliases') if isinstance(domain, dict) else None
    if not isinstance(items, list) or len(items) >= EMBEDDED_ALIASES_LIMIT:
        return None
    if not all(isinstance(item, dict) and item.get('alias') is not None for item in items):
        return None
    return index_current(items)


def alias_set(client, domain):
    """The complete alias set of a domain object: the embedded one, or every page of its alias list."""
    known = embedded_aliases(domain)
    if known is not None:
        return known
    return Aliases(client, domain['domain']).index()


def account_domains(client, with_aliases=None):
    """Every domain of the account, read through the domain list (100 a page, aliases embedded).

    Returns a list of (domain object, alias set) in the API's order. The alias set (name -> alias
    object) is complete: a domain whose embedded list may be cut is listed page by page. It is None
    for the domains with_aliases(name) declines (default: every domain gets its set).
    """
    listing = []
    for domain in Domains(client).iterate():
        if not isinstance(domain, dict) or not domain.get('domain'):
            continue
        wanted = with_aliases is None or with_aliases(domain['domain'])
        listing.append((domain, alias_set(client, domain) if wanted else None))
    return listing


def dkim_selector(domain, default='dkimprovmx'):
    """The DKIM selector of a domain object (what names its DKIM records), default when the API gives none."""
    return str((domain or {}).get('dkim_selector') or '').strip() or default


def routes_by_rules(domain):
    """Whether a domain object routes mail by rules (routing_engine V(rules)); empty or V(alias) means aliases."""
    return str((domain or {}).get('routing_engine') or '').strip().lower() == 'rules'


def rules_routing_warning(domains, name, domain=None):
    """The warning for alias changes on a domain that routes mail by rules, or None.

    With domain (the domain object, or what is known of it) no request is made; without it, one GET of the domain.
    """
    if domain is None:
        domain = domains.fetch(name)
    if not routes_by_rules(domain):
        return None
    return ('the domain %s routes mail by rules (routing_engine: rules): its aliases do not route mail '
            'until its routing_engine is alias again' % name)

# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The reliability matrix as data: its rows (a fault or a bad input), its columns (the modules
and the role) and which cells apply.

This table is the single source of the matrix:

* the in-process tests (tests/unit/reliability/) and the playbook tests
  (tests/integration/test_reliability.py, tests/integration/test_secrets.py) are parametrized
  from it, one test (or a named part of a playbook run) per cell, and each records the cells it
  covers with ``record_property('matrix_cells', ...)``;
* scripts/reliability_matrix.py renders docs/reliability-matrix.md from it, and from the
  outcomes of those tests when it runs them (``--run``);
* tests/unit/reliability/test_matrix_doc.py fails when the committed document is not what the
  table renders to (every applicable cell passing, which is what a green test run means).

Plain Python with no test dependencies, so the script can load it on its own.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

ROLE = 'domain_onboarding'

MODULES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                           'plugins', 'modules')
# The order of the columns: writers before readers, then by resource (others after these), then by name.
RESOURCES = ('domain', 'alias', 'credential', 'rule')


def discover_modules(directory=MODULES_DIR):
    """Every module of plugins/modules (improvmx_*.py), each one a column of the matrix."""
    return sorted(name[:-3] for name in os.listdir(directory) if name.startswith('improvmx_') and name.endswith('.py'))


def is_reader(module):
    """A module that only reads: its name ends in _info or _check."""
    return module.endswith('_info') or module.endswith('_check')


def _column_order(module):
    stem = module[len('improvmx_'):]
    resource = len(RESOURCES)
    for index, name in enumerate(RESOURCES):
        if stem.startswith(name):
            resource = index
            break
    return (is_reader(module), resource, module)


MODULES = tuple(sorted(discover_modules(), key=_column_order))
WRITERS = tuple(m for m in MODULES if not is_reader(m))
READERS = tuple(m for m in MODULES if is_reader(m))
COLUMNS = MODULES + (ROLE,)

# Which modules have which option (for the bad-input rows).
WITH_DOMAIN = tuple(m for m in MODULES if m != 'improvmx_account_info')
# (An alias rule's alias takes wildcards and regular expressions: the alias-name row does not apply to rules.)
WITH_ALIAS = ('improvmx_domains', 'improvmx_alias', 'improvmx_aliases', 'improvmx_credential', 'improvmx_log_info')
WITH_FORWARD = ('improvmx_domains', 'improvmx_alias', 'improvmx_aliases', 'improvmx_rule', 'improvmx_rules')
WITH_ADDRESS = ('improvmx_domain',) + WITH_FORWARD   # options that hold e-mail addresses
WITH_PURGE = ('improvmx_domains', 'improvmx_aliases', 'improvmx_rules')  # purge and allow_empty_purge
LISTERS = ('improvmx_domains', 'improvmx_aliases', 'improvmx_rules', 'improvmx_domain_info', 'improvmx_alias_info',
           'improvmx_rule_info')  # read paged lists
# Rules have no natural uniqueness in the API (two equal rules may exist) and no plan limit of their own:
# rows about "already exists" and plan-limit refusals do not apply to them.
RULE_WRITERS = ('improvmx_rule', 'improvmx_rules')
KEYED_WRITERS = tuple(m for m in WRITERS if m not in RULE_WRITERS)

# The writers the rate-limited playbook run (tests/integration/test_reliability.py) holds a task of.
PLAYBOOK_WRITERS = WRITERS

# Cells covered by real ansible-playbook runs rather than in-process (see TESTED_BY).
PLAYBOOK = 'playbook'
IN_PROCESS = 'in-process'


class Row(object):
    """One row of the matrix: what is injected or given, what must happen, and where it applies."""

    def __init__(self, ident, group, title, expect, columns, playbook_columns=()):
        self.ident = ident
        self.group = group
        self.title = title
        self.expect = expect
        self.columns = tuple(columns)                    # tested in-process, one test per module
        self.playbook_columns = tuple(playbook_columns)  # tested by ansible-playbook runs

    @property
    def all_columns(self):
        return self.columns + tuple(c for c in self.playbook_columns if c not in self.columns)


FAULT = 'Faults (simulator fault injection)'
INPUT = 'Bad input (fails naming the option, before any request)'
WRITE = 'Writes that are not what they seem, and what a failure leaves behind'
LIST = 'Listings that contradict themselves'
STATE = 'The shared rate-limit state and the resets it believes'
RUN = 'Real ansible-playbook runs'

ROWS = (
    # -- rate limits -------------------------------------------------------------------------
    Row('429-retry-after', FAULT, '429 with Retry-After (on a read and on the write)',
        'succeeds; waits honour the header, capped; retries listed in api_retries',
        MODULES, [ROLE]),
    Row('429-ratelimit-reset', FAULT, '429 with only X-RateLimit-Reset',
        'succeeds; waits until the reset, capped; retries listed in api_retries',
        MODULES, [ROLE]),
    Row('429-no-hint', FAULT, '429 with neither header',
        'succeeds after a bounded exponential backoff; retries listed in api_retries',
        MODULES, [ROLE]),
    # -- transient failures of reads ---------------------------------------------------------
    Row('read-502', FAULT, '502 on a read', 'retried, succeeds', MODULES, [ROLE]),
    Row('read-503', FAULT, '503 on a read', 'retried, succeeds', MODULES, [ROLE]),
    Row('read-504', FAULT, '504 on a read', 'retried, succeeds', MODULES, [ROLE]),
    Row('read-drop', FAULT, 'dropped connection on a read', 'retried, succeeds', MODULES, [ROLE]),
    # -- writes whose answer is lost ---------------------------------------------------------
    Row('write-applied-5xx', FAULT, 'write applied, then answered 500/502/503/504',
        'confirmed by a re-read: exists exactly once, changed, no failure, the write sent once',
        WRITERS, [ROLE]),
    Row('write-applied-drop', FAULT, 'write applied, then the connection dropped',
        'confirmed by a re-read: exists exactly once, changed, no failure, the write sent once',
        WRITERS, [ROLE]),
    Row('write-applied-html', FAULT, 'write applied, then answered 200 with an HTML page',
        'confirmed by a re-read: exists exactly once, changed, no failure',
        WRITERS),
    Row('update-applied-5xx', FAULT, 'update (PUT) applied, then answered 502',
        'confirmed (or, for a password, re-sent once: a PUT of the same value is idempotent); changed, no failure',
        WRITERS),
    Row('delete-applied-drop', FAULT, 'delete applied, then the connection dropped',
        'confirmed by a re-read: gone, changed, no failure',
        WRITERS),
    Row('write-applied-no-object', FAULT, 'write applied, then answered 200 {"success": true} without the object',
        'confirmed by a re-read: exists exactly once, changed, no failure, the write sent once',
        WRITERS),
    Row('concurrent-create', FAULT, 'another run creates the object between our read and our write '
        '(the API\'s "already exists" as field errors and as a list of strings)',
        'converges on what is there: no failure, no duplicate',
        KEYED_WRITERS),
    Row('concurrent-delete', FAULT, 'another run deletes the object between our read and our write',
        'absent all the same: no failure',
        WRITERS),
    # -- failures that must stay failures -----------------------------------------------------
    Row('persistent-5xx-read', FAULT, 'persistent 503 on reads',
        'fails within the bounded retries; message has status, method and path; no traceback',
        MODULES, [ROLE]),
    Row('persistent-5xx-write', FAULT, 'persistent 500 on the write (not applied)',
        'fails; message has status, method and path; the write is never repeated; nothing created',
        WRITERS),
    Row('html-error-page', FAULT, 'HTML error page from a proxy (502, text/html), persistent',
        'fails with a clear message (HTTP 502, not JSON); no traceback',
        MODULES),
    Row('html-200', FAULT, '200 answer that is not JSON (HTML)', 'fails with a clear message; no traceback',
        MODULES, [ROLE]),
    Row('empty-body', FAULT, '200 answer with an empty body', 'fails with a clear message; no traceback',
        MODULES, [ROLE]),
    Row('timeout', FAULT, 'request timeout (the API does not answer in time)',
        'fails within bounded retries, the message names the timeout option; no traceback',
        MODULES, [ROLE]),
    # -- writes that are not what they seem ---------------------------------------------------
    Row('write-no-object', WRITE, 'create and update answered 200 {"success": true} without the object, not applied',
        'a re-read shows nothing was written: fails saying so (running again is safe), changed false, '
        'nothing created; the next run converges',
        WRITERS),
    Row('write-redirect', WRITE, 'write answered 301 (http to https), not applied',
        'fails naming the Location and the api_url to use; the write is not followed or re-sent; nothing written',
        WRITERS),
    Row('write-reread-fails', WRITE, 'write answered 502 or 200 without the object (not applied) and the confirming '
        're-read fails too: the create, the update and the delete (improvmx_aliases: bulk add, bulk update, delete)',
        'fails saying the write may have been applied and that running the task again converges; the write sent once',
        WRITERS),
    Row('secret-in-error-body', WRITE, 'an error body repeating the secret: as is past the 200-character cut, '
        'JSON-escaped, with white space collapsed (api_key; the password for improvmx_credential)',
        'no part of the secret in the message, api_retries or any return value',
        MODULES),
    Row('secret-encoded-in-error-body', WRITE, 'an error body repeating the secret encoded: the base64 of api:KEY '
        '(the Authorization value) and of the key alone; the password HTML-escaped (`&quot;` `&amp;` `&ouml;`, '
        'numeric entities) for improvmx_credential',
        'no form of the secret in the message, api_retries or any return value',
        MODULES),
    Row('plan-limit-refusal', WRITE, 'a create refused for a plan limit ("Your account is limited to ...", the '
        'credential limit "You have reached the limit of account allowed for this domain."), as field errors and '
        'as a list of strings',
        'fails with the API\'s text, changed false; not taken for "already exists": no re-read, nothing written',
        KEYED_WRITERS),
    Row('created-then-put-fails', WRITE, 'domain created, the PUT that follows (webhook) refused with 400',
        'fails with changed true, naming the fields not set, returning the created domain',
        ('improvmx_domain', 'improvmx_domains')),
    Row('check-mode-new-domain', WRITE, 'check mode on a domain that an earlier task of the run would add',
        'predicts the change (changed true), no failure, no write',
        ('improvmx_alias', 'improvmx_aliases', 'improvmx_credential') + RULE_WRITERS),
    # -- listings -----------------------------------------------------------------------------
    Row('list-empty-page', LIST, 'a page answers 200 with an empty list before total is reached (once)',
        'read again from page 1: complete result, a purge deletes exactly the unlisted aliases; in api_retries',
        LISTERS),
    Row('list-total-changes', LIST, 'total changes between pages (once)',
        'read again from page 1: complete result, a purge deletes exactly the unlisted aliases; in api_retries',
        LISTERS),
    Row('list-contradicts-twice', LIST, 'the listing contradicts itself on every read',
        'fails naming the listing, before any write or delete',
        LISTERS),
    # -- the shared rate-limit state ------------------------------------------------------------
    Row('ratelimit-state-unsafe', STATE, 'the rate-limit state file is a symlink to a victim file, a dangling '
        'symlink, a FIFO or another user\'s file, or its directory is read-only (EROFS)',
        'succeeds; nothing followed, created or hung on (the victim untouched); paces on its own, '
        'with exactly one warning',
        MODULES),
    Row('ratelimit-reset-poisoned', STATE, 'X-RateLimit-Reset poisoned (the year 3000, 1e400, NaN, milliseconds): '
        'in one answer, and stored in the state file',
        'no wait longer than one window (60 s on a fake clock) and none after it; a stored poison costs no wait; '
        'a pacing wait over 3 s listed in api_retries with its reason',
        MODULES),
    # -- bad input ----------------------------------------------------------------------------
    Row('domain-space', INPUT, 'domain with a space', 'fails naming domain', WITH_DOMAIN, [ROLE]),
    Row('domain-leading-dot', INPUT, 'domain with a leading dot', 'fails naming domain', WITH_DOMAIN),
    Row('domain-too-long', INPUT, 'domain longer than 253 characters / label over 63',
        'fails naming domain', WITH_DOMAIN),
    Row('domain-idn', INPUT, 'internationalised domain (bücher.example)',
        'handled: sent as its IDNA form xn--bcher-kva.example', WITH_DOMAIN),
    Row('domain-bad-idn', INPUT, 'invalid internationalised domain', 'fails naming domain', WITH_DOMAIN),
    Row('alias-invalid', INPUT, 'invalid alias (or SMTP user) name', 'fails naming the option', WITH_ALIAS, [ROLE]),
    Row('destination-invalid', INPUT, 'invalid destination address', 'fails naming forward', WITH_FORWARD, [ROLE]),
    Row('destination-empty', INPUT, 'empty destinations', 'fails naming forward', WITH_FORWARD),
    Row('destinations-over-limit', INPUT, "more destinations than the account's limits.destinations",
        'fails naming forward and the limit, before any write',
        WITH_FORWARD),
    Row('address-too-long', INPUT, 'address over 254 characters, or a local part over 64 (with valid entries)',
        'fails naming the option, before any request (improvmx_aliases: nothing of the valid entries applied)',
        WITH_ADDRESS),
    Row('purge-empty', INPUT, 'purge with an empty alias list (a variable that templates to []; improvmx_domains, '
        'improvmx_rules: an empty domain or rule list)',
        'fails naming allow_empty_purge (role: domain_onboarding_allow_empty_purge); nothing deleted',
        WITH_PURGE, [ROLE]),
    Row('duplicate-aliases', INPUT, 'the same alias twice (any case; improvmx_domains: the same domain, '
        'improvmx_rules: the same rule)', 'fails naming aliases (domains, rules)',
        WITH_PURGE, [ROLE]),
    Row('webhook-not-http', INPUT, 'webhook that is not http/https', 'fails naming webhook',
        ('improvmx_domain', 'improvmx_domains'), [ROLE]),
    Row('password-empty', INPUT, 'empty password', 'fails naming password', ('improvmx_domains', 'improvmx_credential'),
        [ROLE]),
    Row('api-key-empty', INPUT, 'empty api_key', 'fails naming api_key', MODULES),
    Row('api-key-whitespace', INPUT, 'api_key of white space', 'fails naming api_key', MODULES, [ROLE]),
    Row('api-url-not-url', INPUT, 'api_url that is not an http(s) URL', 'fails naming api_url', MODULES, [ROLE]),
    Row('api-url-bad-host', INPUT, 'api_url with an invalid host (http://[bad)', 'fails naming api_url; no traceback',
        MODULES),
    Row('api-url-cleartext', INPUT, 'http:// api_url to a host other than loopback',
        'warns that the API key is sent in clear text', MODULES),
    Row('api-key-not-latin1', INPUT, 'api_key with a character an HTTP header cannot carry',
        'fails naming api_key, without showing the key; no traceback', MODULES),
    # -- real runs ----------------------------------------------------------------------------
    Row('retries-visible-at-v', RUN, 'rate limited run at -v', 'api_retries shown in the task output',
        (), PLAYBOOK_WRITERS + (ROLE,)),
    Row('concurrent-playbooks', RUN, 'two ansible-playbook runs converging overlapping aliases at once',
        'final state is the union; no task fails', (), ('improvmx_alias', 'improvmx_aliases')),
    Row('twenty-domains-forks-10', RUN, '20 domains, forks 10, under the rate limit',
        'every domain onboarded as desired; no task fails; 429s waited out', (), (ROLE,)),
    Row('secrets-vvv-diff', RUN, 'api_key and password at -vvv with --diff, success and forced failures',
        'neither appears in stdout, stderr, registered results or messages', (), COLUMNS),
)

ROWS_BY_ID = dict((row.ident, row) for row in ROWS)


def cells(kind=None):
    """Every applicable (row id, column), in table order; kind IN_PROCESS or PLAYBOOK filters."""
    found = []
    for row in ROWS:
        if kind in (None, IN_PROCESS):
            found.extend((row.ident, column) for column in row.columns)
        if kind in (None, PLAYBOOK):
            found.extend((row.ident, column) for column in row.playbook_columns if column not in row.columns)
    return found


def columns_of(ident, kind=IN_PROCESS):
    row = ROWS_BY_ID[ident]
    return list(row.columns if kind == IN_PROCESS else row.playbook_columns)


def cell_id(row, column):
    """How a cell is named in test ids and in record_property('matrix_cells', ...)."""
    return '%s@%s' % (row, column)

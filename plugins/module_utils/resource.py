# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every resource of the API shares: its not-found error, the conflict predicate and safe writes.

A resource (domains.py, aliases.py, credentials.py, ...) is a class over one ImprovMXClient
that knows its URL paths and the envelope keys of its answers, and returns plain API objects.
Its writes go through Resource.write(), Resource.create() and Resource.delete(), which hold
the write safety of the collection:

* a write whose outcome is unknown (5xx, no answer) is confirmed by re-reading the object,
  never sent twice blindly (ImprovMXClient.write);
* a create refused because another run created the object first converges on the object
  that is there (is_conflict(), the one place that recognises "already exists");
* a delete answered 404 because another run removed it first reports no change.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
from contextlib import contextmanager

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError, ImprovMXNotFound, api_path

# What the API says when an object already exists: "This alias already exists.", "The domain
# example.com is already registered.", "... update the existing alias ...".
_CONFLICT = re.compile(r'\b(?:already|exist\w*|registered|taken|duplicate\w*)\b')
# A word of a conflict negated ("does not exist", "is not registered") says the opposite.
_NEGATED = re.compile(r"(?:\bnot|n't|\bno longer|\bnever)\s+(?:been\s+|be\s+|yet\s+)?(?:exist\w*|registered|taken)\b")
# What the API says about a plan limit: "Your account is limited to ...", "You have reached the limit
# of account allowed for this domain." A refusal over a limit is never "it already exists".
_LIMIT = re.compile(r'\b(?:limit\w*|reached|quota|maximum|upgrade)\b')


def says_exists(text):
    """Whether an API message says the object already exists (and not that a limit or a plan refuses it)."""
    text = str(text or '').lower().replace('\u2019', "'")
    if _LIMIT.search(text):
        return False
    return bool(_CONFLICT.search(_NEGATED.sub(' ', text)))


def is_conflict(error):
    """Whether an API error refuses a create because the object already exists (the one predicate).

    Only the API's own words count (error.detail): the request's path, which names the domain
    and may hold any word, does not.
    """
    if not isinstance(error, ImprovMXError) or error.status not in (400, 409):
        return False
    detail = getattr(error, 'detail', None)
    return says_exists(detail if detail is not None else error)


class TaskError(Exception):
    """A problem with the task that is not an API error; the runner reports it as it is.

    result holds return values to add to the failure.
    """

    def __init__(self, message, **result):
        super(TaskError, self).__init__(message)
        self.result = result


class DomainMissing(ImprovMXNotFound):
    """The domain a request is about is not in the account (HTTP 404), in one wording for every module."""

    def __init__(self, domain, cause=None):
        super(DomainMissing, self).__init__(
            'the domain %s is not in the ImprovMX account; add it first with improvmx.email.improvmx_domain' % domain,
            method=getattr(cause, 'method', None), path=getattr(cause, 'path', None), status=404,
            errors=getattr(cause, 'errors', None))
        self.domain = domain


class Confirmed(object):
    """What a re-read found after a write with an unknown outcome, returned in place of the write's answer."""

    def __init__(self, value):
        self.value = value


def unwrap(answer, key):
    """The object in an answer's envelope ({key: object}); the answer itself when key is None."""
    if key is None:
        return answer
    return (answer or {}).get(key) if isinstance(answer, dict) else None


class Resource(object):
    """Base of the resources: the client, path building and the safe writes."""

    def __init__(self, client):
        self.client = client

    @staticmethod
    def path(*segments, **kwargs):
        """An API path from segments (URL-quoted); collection=True for a list's path."""
        return api_path(*segments, **kwargs)

    def read(self, path, key, params=None):
        """GET one object and unwrap it; None when the API answers 404."""
        return unwrap(self.client.get_or_none(path, params=params), key)

    def send(self, method, path, data, reread=None, applied=None, idempotent=False, key=None):
        """Send a write; return its answer, or Confirmed(object) when a re-read had to confirm it.

        When the outcome is unknown, reread() reads the object again and applied(now) says
        whether the write took effect (default: the object exists). Without reread, an
        idempotent write is sent once more and any other one fails (ImprovMXClient.write).
        With key (an envelope key, or a tuple of them), a success answer without the object (such
        as 200 {"success": true}) is an unknown outcome as well: it is confirmed by reread() the same way.
        """
        confirm = None
        if reread is not None:
            def confirm():
                now = reread()
                return Confirmed(now) if (applied or _exists)(now) else None
        answer = self.client.write(method, path, data, confirm=confirm, idempotent=idempotent)
        keys = key if isinstance(key, tuple) else (key,)
        if key is None or confirm is None or isinstance(answer, Confirmed) or \
                any(isinstance(unwrap(answer, one), (dict, list)) for one in keys):
            return answer
        shown = _shown(self.client.redact(json.dumps(answer, sort_keys=True, default=str)))
        missing = ImprovMXError('%s %s: the API answered success without the %s object (%s), so whether the write '
                                'was applied is unknown' % (method, path, ' or '.join(keys), shown),
                                method=method, path=path, ambiguous=True)
        return self.client.confirm_write(method, path, missing, confirm)

    def write(self, method, path, data, key=None, reread=None, applied=None, idempotent=False):
        """send(), returning the object the write produced (unwrapped from key, or the re-read one)."""
        answer = self.send(method, path, data, reread=reread, applied=applied, idempotent=idempotent, key=key)
        if isinstance(answer, Confirmed):
            return answer.value
        return unwrap(answer, key)

    def create(self, path, data, key, reread, applied=None, find=None, raw=False):
        """POST a new object: (True, object) when this run created it, (False, current) when another had.

        reread() reads the object (None when absent) to confirm an unknown outcome; after a
        conflict, find() (default: reread) gives the object to converge on. A conflict whose
        object cannot be found is raised as it is. With raw, a created object comes as send()
        returns it: the whole answer, or Confirmed(object).
        """
        try:
            if raw:
                return True, self.send('POST', path, data, reread=reread, applied=applied, key=key)
            return True, self.write('POST', path, data, key, reread=reread, applied=applied)
        except ImprovMXError as exc:
            if not is_conflict(exc):
                raise
            current = (find or reread)()
            if current is None:
                raise
            return False, current

    def delete(self, path, reread):
        """DELETE an object seen a moment ago: True when this run removed it, False when another run had."""
        return self.client.remove(path, confirm=lambda: Confirmed(None) if reread() is None else None)


class DomainResource(Resource):
    """Base of every resource under /domains/:domain (aliases, credentials, rules, logs): a 404 settled once.

    A 404 of a list or a collection under the domain can only mean that the domain is not in the
    account: settled() turns it into DomainMissing, the one wording every module uses. A 404 of
    one child (an alias, a rule) means the child is absent, or its domain is: child() reads it,
    and only when it is absent asks whether the domain is there (one more read), so that a path
    under a child never takes a missing domain for a missing child.
    """

    def __init__(self, client, domain):
        super(DomainResource, self).__init__(client)
        self.domain = domain

    def domain_path(self, *segments, **kwargs):
        """The path of segments under /domains/:domain."""
        return self.path('domains', self.domain, *segments, **kwargs)

    @contextmanager
    def settled(self):
        """Run a request under the domain: an ImprovMXNotFound raised inside becomes DomainMissing."""
        try:
            yield
        except DomainMissing:
            raise
        except ImprovMXNotFound as exc:
            raise DomainMissing(self.domain, exc)

    def items(self, path, key, params=None, **kwargs):
        """Every item of a paged list under the domain (dicts only); DomainMissing when the domain is not there."""
        with self.settled():
            for item in self.client.paginate(path, key, params=params, **kwargs):
                if isinstance(item, dict):
                    yield item

    def ensure_domain(self):
        """DomainMissing unless the domain is in the account (one read): after a child's 404."""
        if self.client.get_or_none(self.path('domains', self.domain)) is None:
            raise DomainMissing(self.domain)

    def child(self, path, key):
        """One child object, or None when it is absent; DomainMissing when its domain is absent."""
        obj = self.read(path, key)
        if obj is None:
            self.ensure_domain()
        return obj


def _exists(obj):
    return obj is not None


def _shown(text):
    """A (redacted) answer, shortened for a message."""
    return text if len(text) <= 120 else text[:120] + '...'

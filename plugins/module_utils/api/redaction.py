# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secret redaction: the forms a secret can take in a text, and their removal from every text the client keeps.

The API key, and every secret a caller registers with ImprovMXClient.add_secret(), are
replaced by REDACTED in every message and event the client produces, in every form they may
take in an answer (as is, with white space collapsed, JSON-escaped, URL-encoded, HTML-escaped
with named or numeric entities, base64-encoded alone or as the Basic-auth value api:SECRET),
before any text is shortened (Redactor.snippet()).

This file owns secret_forms(), redact() and Redactor (the secrets of one client and the one
pattern that finds them all); it knows nothing of HTTP.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import re

from html.entities import codepoint2name

from urllib.parse import quote, quote_plus

REDACTED = '********'
SNIPPET_SIZE = 200


def _base64_forms(secret):
    """The base64 forms of a secret: alone, and as the Basic-auth value api:SECRET the client sends, with and without padding."""
    forms = set()
    for value in (secret, 'api:' + secret):
        try:
            encoded = base64.b64encode(value.encode('utf-8')).decode('ascii')
        except UnicodeError:
            continue
        forms.add(encoded)
        forms.add(encoded.rstrip('='))
    return forms


def secret_forms(secret):
    """Every literal form in which a secret may show up in an answer or an exception text.

    HTML-escaped forms, whose characters may each be escaped differently, are matched by a
    pattern instead (_html_pattern).
    """
    if not isinstance(secret, str) or not secret:
        return set()
    bases = set([secret])
    collapsed = ' '.join(secret.split())
    if collapsed:
        bases.add(collapsed)
    bases.update(_base64_forms(secret))
    forms = set()
    for base in bases:
        forms.add(base)
        escaped = json.dumps(base)[1:-1]
        forms.add(escaped)
        forms.add(escaped.replace('/', '\\/'))
        forms.add(json.dumps(base, ensure_ascii=False)[1:-1])
        forms.add(quote(base, safe=''))
        forms.add(quote(base))
        forms.add(quote_plus(base))
        try:  # UTF-8 read as Latin-1, as requests does for a text answer without a charset
            forms.add(base.encode('utf-8').decode('latin-1'))
        except UnicodeError:
            pass
    forms.discard('')
    return forms


def _html_pattern(secret):
    """A regular expression for the secret HTML-escaped: each character as itself, a named entity
    (&quot; &amp; &ouml;) or a numeric one (&#246; &#xf6;), the ';' optional; white space as any."""
    parts = []
    for char in secret:
        if char.isspace():
            parts.append(r'(?:\s|&nbsp;?|&#0*(?:9|10|13|32|160);?|&#x0*(?:9|a|d|20|a0);?)+')
            continue
        choices = [re.escape(char), '&#0*%d;?' % ord(char), '&#x0*%x;?' % ord(char)]
        name = codepoint2name.get(ord(char))
        if name:
            choices.append('&%s;?' % name)
        if char == "'":
            choices.append('&apos;?')
        parts.append('(?:%s)' % '|'.join(choices))
    return ''.join(parts)


def _secret_pattern(secrets):
    forms = set()
    html = set()
    for secret in secrets:
        forms.update(secret_forms(secret))
        if isinstance(secret, str) and secret.strip():
            html.add(secret)
            html.add(' '.join(secret.split()))
    if not forms:
        return None
    # Longest first, so that a longer form is never cut by a shorter one; escapes (\u00e4, %C3)
    # are matched without case, as encoders differ in the case of hex digits; white space inside
    # a secret matches any white space (a body re-wrapped or collapsed). The HTML-escaped forms
    # come first: each matches the secret as is too, and any longer escaped spelling of it.
    ordered = sorted(forms, key=lambda form: (-len(form), form))
    alternatives = [_html_pattern(secret) for secret in sorted(html, key=lambda text: (-len(text), text))]
    alternatives.extend(r'\s+'.join(re.escape(part) for part in form.split()) if form.strip() else re.escape(form)
                        for form in ordered)
    return re.compile('|'.join(alternatives), re.IGNORECASE)


def redact(value, secrets):
    """value (a string, or lists and dicts of them) with every form of every secret replaced by REDACTED."""
    pattern = _secret_pattern([s for s in (secrets or ()) if s])
    if pattern is None:
        return value
    return _redact_with(pattern, value)


def _redact_with(pattern, value):
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, dict):
        return dict((_redact_with(pattern, k), _redact_with(pattern, v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_redact_with(pattern, v) for v in value]
    return value


def _collapse(text):
    return ' '.join((text or '').split())


def _shorten(text, size=SNIPPET_SIZE):
    return text if len(text) <= size else text[:size] + '...'


class Redactor(object):
    """The secrets of one client (the API key first), and the one pattern that matches every form of each."""

    def __init__(self, secrets):
        self.secrets = list(secrets)
        self._pattern = _secret_pattern(self.secrets)

    def add(self, secret):
        """Register one more secret (a password) to keep out of every text."""
        if isinstance(secret, str) and secret and secret not in self.secrets:
            self.secrets.append(secret)
            self._pattern = _secret_pattern(self.secrets)

    def redact(self, value):
        """value (a string, or lists and dicts of them) without any registered secret, in any form."""
        if self._pattern is None:
            return value
        return _redact_with(self._pattern, value)

    def snippet(self, text, size=SNIPPET_SIZE):
        """Text from an answer, fit to quote: secrets removed, then white space collapsed, then shortened."""
        return _shorten(self.redact(_collapse(self.redact(text or ''))), size)

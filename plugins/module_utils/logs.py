# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The e-mail logs of a domain: /domains/:domain/logs and /domains/:domain/logs/:alias (a cursor list)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXNotFound
from ansible_collections.improvmx.email.plugins.module_utils.resource import DomainMissing, Resource


class Logs(Resource):
    """Read-only, newest first, one page after another from a cursor."""

    def __init__(self, client, domain):
        super(Logs, self).__init__(client)
        self.domain = domain

    def collect(self, alias=None, cursor=None, max_entries=None, only_failed=False):
        """(entries, next_cursor): at most max_entries entries after cursor, of the domain or of one alias.

        only_failed asks the API for failed deliveries only (filter=failure). next_cursor is None
        when there are no more entries. DomainMissing when the domain is not in the account.
        """
        segments = ['domains', self.domain, 'logs']
        if alias is not None:
            segments.append(alias)
        params = {'filter': 'failure'} if only_failed else None
        try:
            return self.client.cursor_list(self.path(*segments), 'logs', cursor=cursor, max_items=max_entries,
                                           params=params)
        except ImprovMXNotFound as exc:
            raise DomainMissing(self.domain, exc)

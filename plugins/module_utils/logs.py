# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The e-mail logs of a domain: /domains/:domain/logs and /domains/:domain/logs/:alias (a cursor list)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.resource import DomainResource


class Logs(DomainResource):
    """Read-only, newest first, one page after another from a cursor."""

    def collect(self, alias=None, cursor=None, max_entries=None, only_failed=False):
        """(entries, next_cursor): at most max_entries entries after cursor, of the domain or of one alias.

        only_failed asks the API for failed deliveries only (filter=failure). next_cursor is None
        when there are no more entries. DomainMissing when the domain is not in the account.
        """
        segments = ['logs'] if alias is None else ['logs', alias]
        params = {'filter': 'failure'} if only_failed else None
        with self.settled():
            return self.client.cursor_list(self.domain_path(*segments), 'logs', cursor=cursor, max_items=max_entries,
                                           params=params)

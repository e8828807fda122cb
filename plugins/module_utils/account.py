# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The account: /account/ (plan, limits, ...) and /account/whitelabels/."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.resource import Resource, unwrap


class Account(Resource):
    """Read-only: the account's details and its whitelabels."""

    def details(self):
        """The account object ({} when the API gives none)."""
        return unwrap(self.client.get(self.path('account', collection=True)), 'account') or {}

    def whitelabels(self):
        """The whitelabels of the account (HTTP 403 for a plan without them)."""
        return unwrap(self.client.get(self.path('account', 'whitelabels', collection=True)), 'whitelabels') or []

    def destinations_limit(self):
        """limits.destinations (how many addresses one alias may forward to), or None.

        None when the account cannot be read or does not say: the API then decides on the write.
        """
        try:
            limit = (self.details().get('limits') or {}).get('destinations')
        except ImprovMXError:
            return None
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            return None
        return limit

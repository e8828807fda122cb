# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET /account and GET /account/whitelabels."""

from __future__ import absolute_import, division, print_function


__metaclass__ = type  # pylint: disable=invalid-name


def h_account(sim, params, query, body):
    return {'account': sim.account_object(), 'success': True}


def h_whitelabels(sim, params, query, body):
    return {'whitelabels': [{'name': name} for name in sim.whitelabels], 'success': True}

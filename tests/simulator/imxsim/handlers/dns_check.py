# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET /domains/:d/check: the DNS check (its records: imxsim/dns.py and the Simulator's DNS state)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name


def h_check_domain(sim, params, query, body):
    dom = sim.get_domain(params['domain'])
    dns = sim.dns_state(dom['domain'])
    records = sim.dns_records(dom, dns)
    dns['checks'] += 1
    # The reference: "The endpoint will return true in success when the MX are well
    # configured, false otherwise" (HTTP 200 either way, with the records).
    if sim.check_shape == 'top':
        # The vendor's CLI reads valid, mx and spf at the top of the answer (api-facts.md).
        return dict(records, success=bool(records['valid']))
    return {'records': records, 'success': bool(records['valid'])}

# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The /_sim/ control endpoints: handler(sim, body) -> payload."""

from __future__ import absolute_import, division, print_function


__metaclass__ = type  # pylint: disable=invalid-name


def _kwargs(body):
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise TypeError('the request body must be a JSON object')
    return body


def c_get_requests(sim, body):
    return {'requests': sim.requests, 'success': True}


def c_clear_requests(sim, body):
    sim.clear_requests()
    return {'success': True}


def c_reset(sim, body):
    sim.reset()
    return {'success': True}


def c_add_fault(sim, body):
    return {'fault': sim.add_fault(**_kwargs(body)), 'success': True}


def c_list_faults(sim, body):
    return {'faults': sim.faults, 'success': True}


def c_clear_faults(sim, body):
    sim.clear_faults()
    return {'success': True}


def c_config(sim, body):
    return {'config': sim.configure(**_kwargs(body)), 'success': True}


def c_dns(sim, body):
    return {'dns': sim.set_dns(**_kwargs(body)), 'success': True}


def c_seed(sim, body):
    sim.load_seed(_kwargs(body))
    return {'state': sim.state_snapshot(), 'success': True}


def c_logs(sim, body):
    return {'ids': sim.seed_logs(**_kwargs(body)), 'success': True}


def c_state(sim, body):
    return sim.state_snapshot()


SIM_ROUTES = [
    ('GET', 'requests', c_get_requests),
    ('DELETE', 'requests', c_clear_requests),
    ('POST', 'reset', c_reset),
    ('GET', 'faults', c_list_faults),
    ('POST', 'faults', c_add_fault),
    ('DELETE', 'faults', c_clear_faults),
    ('POST', 'config', c_config),
    ('POST', 'dns', c_dns),
    ('POST', 'seed', c_seed),
    ('POST', 'logs', c_logs),
    ('GET', 'state', c_state),
]

# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Standalone mode: argument parsing and main()."""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import signal
import sys
import threading

from .common import CHECK_SHAPES, ERROR_SHAPES
from .simulator import Simulator

__metaclass__ = type  # pylint: disable=invalid-name


def build_parser():
    parser = argparse.ArgumentParser(description='ImprovMX API v3 simulator (loopback, for tests and demos).')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8765, help='0 picks a free port')
    parser.add_argument('--port-file', help='write the listening port to this file')
    parser.add_argument('--api-key', default=os.environ.get('IMPROVMX_API_KEY', 'test-api-key'))
    parser.add_argument('--seed', help='JSON file shaped like GET /_sim/state')
    parser.add_argument('--rate-limit-get', type=int, default=None, help='GET requests per window (0: off, the default)')
    parser.add_argument('--rate-limit-write', type=int, default=None,
                        help='requests per window for each of POST, PUT and DELETE, each its own bucket (0: off)')
    parser.add_argument('--rate-limit-post', type=int, default=None, help='POST requests per window (overrides --rate-limit-write)')
    parser.add_argument('--rate-limit-put', type=int, default=None, help='PUT requests per window (overrides --rate-limit-write)')
    parser.add_argument('--rate-limit-delete', type=int, default=None, help='DELETE requests per window (overrides --rate-limit-write)')
    parser.add_argument('--rate-limit-api', action='store_true',
                        help="the live API's limits: 150 GET and 60 of each write method per window")
    parser.add_argument('--rate-limit-window', type=float, default=60, help='rate-limit window in seconds')
    parser.add_argument('--rate-limit-scale', type=float, default=None,
                        help="divide the window by this (60: per-minute limits per second); alone, it also sets the API's limits")
    parser.add_argument('--rule-envelope', choices=('rule', 'top'), default='top',
                        help='POST/PUT of a rule answer the rule object itself, with success (default, as the CLI reads '
                             'it) or {"rule": ..., "success": true}')
    parser.add_argument('--non-premium', action='store_true', help='free account: credentials and rules answer 403')
    parser.add_argument('--account-email', default='owner@example.net')
    parser.add_argument('--dns-valid-after', type=int, default=None,
                        help='every domain\'s DNS records become valid after N checks (default: never)')
    parser.add_argument('--log-page-size', type=int, default=50)
    parser.add_argument('--error-shape', choices=ERROR_SHAPES, default='fields',
                        help='a 400 carries its errors as {field: [messages]} (default) or as a list of the messages')
    parser.add_argument('--domains-limit', type=int, default=None,
                        help='the plan\'s limit of domains: a domain beyond it is refused (default: none)')
    parser.add_argument('--aliases-limit', type=int, default=None,
                        help='the plan\'s limit of aliases per domain: an alias beyond it is refused (default: none)')
    parser.add_argument('--credentials-limit', type=int, default=50, help='SMTP credentials per domain (default 50)')
    parser.add_argument('--rules-page-size', type=int, default=None,
                        help='the rules list ignores limit, pages by N rules and answers only {"rules", "success"} '
                             '(default: paged by limit, with total)')
    parser.add_argument('--check-shape', choices=CHECK_SHAPES, default='records',
                        help='the DNS check answers {"records": {...}} (default, the reference) or the records at the top level')
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    seed = None
    if args.seed:
        with open(args.seed, encoding='utf-8') as handle:
            seed = json.load(handle)
    sim = Simulator(api_key=args.api_key, host=args.host, port=args.port, premium=not args.non_premium,
                    account_email=args.account_email, rate_limit_get=args.rate_limit_get,
                    rate_limit_write=args.rate_limit_write, rate_limit_window=args.rate_limit_window,
                    rate_limit_post=args.rate_limit_post, rate_limit_put=args.rate_limit_put,
                    rate_limit_delete=args.rate_limit_delete, rate_limit_api=args.rate_limit_api,
                    rate_limit_scale=args.rate_limit_scale, rule_envelope=args.rule_envelope,
                    log_page_size=args.log_page_size, dns_valid_after=args.dns_valid_after, seed=seed,
                    error_shape=args.error_shape, domains_limit=args.domains_limit, aliases_limit=args.aliases_limit,
                    credentials_limit=args.credentials_limit, rules_page_size=args.rules_page_size, check_shape=args.check_shape)
    url = sim.start()
    if args.port_file:
        tmp = args.port_file + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as handle:
            handle.write('%d\n' % sim.port)
        os.replace(tmp, args.port_file)
    print('improvmx simulator listening on %s' % url, flush=True)

    stop = threading.Event()

    def _on_signal(signum, frame):  # pylint: disable=unused-argument
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    while not stop.wait(0.5):
        pass
    # Stop serving, but never let a stuck connection keep a stopped simulator alive.
    closer = threading.Thread(target=sim.stop, name='improvmx-sim-stop', daemon=True)
    closer.start()
    closer.join(5)
    sys.stdout.flush()
    os._exit(0)  # pylint: disable=protected-access

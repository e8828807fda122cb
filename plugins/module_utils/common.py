# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What every module shares: the connection options, the client set-up and error reporting."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os

from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.improvmx.email.plugins.module_utils.api import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    RATE_STATE_OFF,
    REQUESTS_IMPORT_ERROR,
    ImprovMXClient,
    ImprovMXError,
    RetryPolicy,
    check_api_key,
)


def improvmx_argument_spec(**options):
    """The connection options (doc fragment improvmx.email.improvmx) plus the module's own."""
    spec = dict(
        # Required, but checked in client_from_module(): its message says where the key comes from.
        api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['IMPROVMX_API_KEY'])),
        api_url=dict(type='str', default=DEFAULT_API_URL, fallback=(env_fallback, ['IMPROVMX_API_URL'])),
        validate_certs=dict(type='bool', default=True),
        timeout=dict(type='float', default=30),
        max_retries=dict(type='int', default=8, fallback=(env_fallback, ['IMPROVMX_MAX_RETRIES'])),
        max_retry_wait=dict(type='float', default=300, fallback=(env_fallback, ['IMPROVMX_MAX_RETRY_WAIT'])),
        rate_limit_state=dict(type='str', fallback=(env_fallback, ['IMPROVMX_RATE_LIMIT_STATE'])),
    )
    spec.update(options)
    return spec


def checked(module, option, check, *args, **kwargs):
    """Run a validation.* check on module.params[option]; fail naming the option when it is wrong.

    Returns None for an option that was not given.
    """
    value = module.params.get(option)
    if value is None:
        return None
    try:
        return check(value, *args, **kwargs)
    except ValueError as exc:
        module.fail_json(msg='%s %s' % (option, exc))


def client_from_module(module):
    """Check the connection options and return a client; fails the module on bad options."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    params = module.params
    if params.get('api_key') is None:
        module.fail_json(msg='api_key is missing: set the api_key option (for example in module_defaults for '
                             'group/improvmx.email.improvmx) or the IMPROVMX_API_KEY environment variable to the key '
                             'from the API page of the ImprovMX dashboard')
    if not params['api_key'].strip():
        module.fail_json(msg='api_key is empty: set the api_key option or the IMPROVMX_API_KEY environment variable '
                             'to the key from the API page of the ImprovMX dashboard')
    api_key = params['api_key'].strip()
    try:
        check_api_key(api_key)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    url = _checked_api_url(module, params['api_url'])
    if params['timeout'] <= 0:
        module.fail_json(msg='timeout must be a positive number of seconds, got %s' % params['timeout'])
    if params['max_retries'] < 0:
        module.fail_json(msg='max_retries must be 0 or more, got %s' % params['max_retries'])
    if params['max_retry_wait'] < 0:
        module.fail_json(msg='max_retry_wait must be 0 or more seconds, got %s' % params['max_retry_wait'])
    state_dir, shared = _checked_rate_limit_state(module, params.get('rate_limit_state'))
    policy = RetryPolicy(retries=params['max_retries'], max_wait=min(60.0, params['max_retry_wait']),
                         max_total_wait=params['max_retry_wait'])
    client = ImprovMXClient(
        api_key=api_key,
        api_url=url,
        validate_certs=params['validate_certs'],
        timeout=params['timeout'],
        retry_policy=policy,
        rate_state_dir=state_dir,
        share_rate_state=shared,
        warn=module.warn,
    )
    # Every no_log value of the module (passwords) is redacted from the client's messages and api_retries.
    for value in sorted(getattr(module, 'no_log_values', None) or (), key=str):
        if isinstance(value, str):
            client.add_secret(value)
    return client


def _checked_rate_limit_state(module, value):
    """(directory, shared) from rate_limit_state: None (the default directory), off, or an absolute path."""
    if value is None or not value.strip():
        return None, True
    value = value.strip()
    if value.lower() == RATE_STATE_OFF:
        return None, False
    directory = os.path.expanduser(value)
    if not os.path.isabs(directory):
        module.fail_json(msg='rate_limit_state must be off or the absolute path of a directory (for example '
                             '~/.ansible/tmp/improvmx.email), got %r' % value)
    return directory, True


def _checked_api_url(module, value):
    """api_url, stripped, or fail_json naming the option; warns when the key would travel in clear text."""
    url = (value or '').strip()
    problem = None
    parts = None
    try:
        parts = urlsplit(url)
        if parts.port == 0:  # reading the port raises ValueError for one out of range
            problem = 'has port 0'
    except ValueError as exc:
        problem = 'is not a valid URL (%s)' % exc
    if problem is None:
        if parts.scheme not in ('http', 'https') or not parts.hostname or any(ch.isspace() for ch in url):
            problem = 'is not an http:// or https:// URL'
        elif parts.username is not None or parts.password is not None:
            module.fail_json(msg='api_url must not hold a user name or password (the URL is not shown here); '
                                 'give the key as api_key, and api_url as https://host/path (default: %s)'
                                 % DEFAULT_API_URL)
    if problem is not None:
        shown = value if '@' not in (value or '') else '(not shown: it holds an @)'
        module.fail_json(msg='api_url %r %s (default: %s)' % (shown, problem, DEFAULT_API_URL))
    if parts.scheme == 'http' and not _is_loopback(parts.hostname):
        module.warn('api_url %s uses http://: the API key is sent in clear text to %s; use https:// '
                    '(http:// is meant for a local test server such as the simulator)' % (url, parts.hostname))
    return url


def _is_loopback(hostname):
    hostname = (hostname or '').lower().rstrip('.')
    if hostname == 'localhost' or hostname.endswith('.localhost'):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def exit_module(module, client, **result):
    """exit_json, adding what the client had to retry (visible with -v)."""
    if client is not None and client.retry_events:
        result['api_retries'] = list(client.retry_events)
    module.exit_json(**result)


def fail_api(module, client, error, **result):
    """One fail_json for an API error: the message, the HTTP status and the API's per-field errors."""
    if not isinstance(error, ImprovMXError):
        raise error
    result['msg'] = str(error)
    if error.status is not None:
        result['status'] = error.status
    if error.errors:
        result['api_errors'] = error.errors
    if client is not None and client.retry_events:
        result['api_retries'] = list(client.retry_events)
    module.fail_json(**result)

# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ImprovMX API client: every module talks to the API through one ImprovMXClient.

The client is a small package, one layer per file; this file only gathers their public names,
and callers import every name from here
(ansible_collections.improvmx.email.plugins.module_utils.api), not from the files:

* transport.py: ImprovMXClient (the requests.Session, the bounded retry loop, pacing, writes
  decided by a re-read when their outcome is unknown), RetryPolicy, api_path(), check_api_key();
* errors.py: ImprovMXError and ImprovMXNotFound, the API's error shapes, what a transport
  failure means for a retry, and the message of every failure;
* redaction.py: every form of a secret, kept out of every message and event (redact());
* ratelimit.py: RateLimitState, the API's rate-limit budget shared by the processes that use
  one account, in a directory private to the user;
* lists.py: page/limit lists and cursor lists, on top of the client's get()
  (ImprovMXClient.paginate() and cursor_list() call it).

Only transport.py imports the other files; errors.py, redaction.py, ratelimit.py and lists.py
import none of them (lists.py is handed the client).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.api.errors import (
    ImprovMXError,
    ImprovMXNotFound,
    classify_transport_error,
)
from ansible_collections.improvmx.email.plugins.module_utils.api.lists import PAGE_LIMIT
from ansible_collections.improvmx.email.plugins.module_utils.api.ratelimit import (
    RATE_STATE_DIR_NAME,
    RATE_STATE_OFF,
    RATE_STATE_PREFIX,
    RATE_WINDOW,
    RateLimitState,
    default_rate_state_dir,
    reset_time,
)
from ansible_collections.improvmx.email.plugins.module_utils.api.redaction import (
    REDACTED,
    SNIPPET_SIZE,
    redact,
    secret_forms,
)
from ansible_collections.improvmx.email.plugins.module_utils.api.transport import (
    DEFAULT_API_URL,
    HAS_REQUESTS,
    PACE_REPORTED,
    REQUESTS_IMPORT_ERROR,
    RETRY_STATUSES,
    USER_AGENT,
    WRITE_METHODS,
    ImprovMXClient,
    RetryPolicy,
    api_path,
    check_api_key,
)

__all__ = [
    'DEFAULT_API_URL',
    'HAS_REQUESTS',
    'PACE_REPORTED',
    'PAGE_LIMIT',
    'RATE_STATE_DIR_NAME',
    'RATE_STATE_OFF',
    'RATE_STATE_PREFIX',
    'RATE_WINDOW',
    'REDACTED',
    'REQUESTS_IMPORT_ERROR',
    'RETRY_STATUSES',
    'SNIPPET_SIZE',
    'USER_AGENT',
    'WRITE_METHODS',
    'ImprovMXClient',
    'ImprovMXError',
    'ImprovMXNotFound',
    'RateLimitState',
    'RetryPolicy',
    'api_path',
    'check_api_key',
    'classify_transport_error',
    'default_rate_state_dir',
    'redact',
    'reset_time',
    'secret_forms',
]

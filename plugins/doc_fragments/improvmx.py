# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment(object):

    # Connection and authentication options shared by every module.
    DOCUMENTATION = r'''
options:
  api_key:
    description:
      - The API key of the ImprovMX account, from the API page of the ImprovMX dashboard.
      - Required, as this option or as the E(IMPROVMX_API_KEY) environment variable of the host
        that runs the module; if the option is not set, the environment variable is used.
        An empty or blank value counts as missing, and the module fails saying where the key comes from.
      - It is sent as the password of HTTP Basic authentication with the user name C(api), as the API documents.
      - The key is never shown in the module's output, errors or diffs.
    type: str
  api_url:
    description:
      - Base URL of the ImprovMX API, version 3.
      - If not set, the value of the E(IMPROVMX_API_URL) environment variable is used,
        and if that is not set either, V(https://api.improvmx.com/v3/).
      - Point it at a test server, for example the simulator shipped in C(tests/simulator/).
      - An C(http://) URL to a host other than the local machine sends the key in clear text, and
        the module warns about it.
      - Redirects are never followed. An answer that redirects fails the task, naming its C(Location)
        and the O(api_url) to use instead.
    type: str
    default: https://api.improvmx.com/v3/
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the API server.
      - Only set this to V(false) for a test server with a self-signed certificate.
      - V(false) wins over the E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) environment variables;
        with V(true), a CA bundle they name is used.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request to the API before giving up on it.
      - Waits caused by the API's rate limit are not part of this timeout.
    type: float
    default: 30
  max_retries:
    description:
      - How many times one request may be retried after a rate limit (HTTP 429), and, for reads,
        after HTTP 502, 503 or 504, a timeout or a dropped connection.
      - A write (POST, PUT, DELETE) is only retried when the API cannot have applied it; otherwise the
        module reads the object back to decide.
      - A connection that is refused, or an API host name that does not resolve, is retried only
        briefly (at most twice, within seconds). The task then fails with a message that says
        C(could not connect to the API at api_url).
      - V(0) turns retries off.
      - If not set, the value of the E(IMPROVMX_MAX_RETRIES) environment variable is used.
    type: int
    default: 8
  max_retry_wait:
    description:
      - The most seconds one request may spend waiting between its retries, all waits together.
        A single wait is at most 60 seconds (or this value, if smaller).
      - The wait follows the API's C(Retry-After) header, else its C(X-RateLimit-Reset) header,
        else an exponential backoff with jitter.
      - The same caps bound the pauses the modules make to spread their requests out when the
        API's C(X-RateLimit-Remaining) header says the account's budget runs low.
      - If not set, the value of the E(IMPROVMX_MAX_RETRY_WAIT) environment variable is used.
    type: float
    default: 300
  rate_limit_state:
    description:
      - Where the modules share what the API last said about the account's rate-limit budget
        (its C(X-RateLimit-*) headers), so that parallel tasks against one account slow down together
        before the API refuses them.
      - If not set, the value of the E(IMPROVMX_RATE_LIMIT_STATE) environment variable is used, and if
        that is not set either, the directory C(~/.ansible/tmp/improvmx.email) of the user who runs the
        module (on the controller, or in the AWX execution environment).
      - An absolute directory path puts the state there. The directory is created with mode C(0700) when
        missing; it must belong to that user and be closed to other users, or it is not used.
      - V(off) turns sharing off. Each task then paces its requests on its own, from the headers of its
        own answers.
      - The state file is never followed through a symbolic link. A state file or directory that is
        not safe to use (a link, a FIFO, another user's, a directory that cannot be written) is not
        used; the task then paces on its own and says so in one warning.
    type: str
requirements:
  - requests >= 2.25.0 with urllib3 >= 1.21.1 (Python libraries, on the host that runs the module)
notes:
  - "The modules talk to the ImprovMX API from the host they run on, usually the controller:
    use C(delegate_to: localhost) or a play on C(hosts: localhost)."
  - Set the connection options once for every module with
    C(module_defaults) and the action group C(group/improvmx.email.improvmx).
  - The API limits each account to about 150 reads and 60 writes a minute. When it answers
    HTTP 429, the modules wait as the API asks (C(Retry-After), else C(X-RateLimit-Reset),
    else an exponential backoff with jitter) and try again, within bounds.
  - The modules keep what the API last said about the account's rate-limit budget (the
    C(X-RateLimit-*) headers, per HTTP method) in a small file in the directory of
    O(rate_limit_state) (by default C(~/.ansible/tmp/improvmx.email)), named after a hash of
    O(api_url) and O(api_key) (never the key itself), so that parallel tasks against one account
    slow down together before the API refuses them. A reset time more than one window (60 seconds)
    ahead is never believed, and a wait of more than a few seconds for the budget is listed in
    C(api_retries).
'''

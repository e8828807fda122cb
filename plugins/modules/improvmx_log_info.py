#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: improvmx_log_info
short_description: Read the e-mail logs of an ImprovMX domain or alias
version_added: 1.0.0
description:
  - Returns the log entries of the e-mails ImprovMX processed for a domain, or for one alias of it,
    newest first, with the delivery events of each.
  - The API gives the logs a page at a time; the module follows the pages until it has
    O(max_entries) entries or the API has no more.
  - RV(next_cursor) tells where to resume; give it back as O(next_cursor) to read the following entries.
author:
  - improvmx.email developers (@improvmx-email)
extends_documentation_fragment:
  - improvmx.email.improvmx
  - improvmx.email.attributes
  - improvmx.email.attributes.info_module
options:
  domain:
    description:
      - The domain whose logs to read, for example V(example.com).
      - It is lower-cased and an internationalised name is converted to its IDNA form.
    type: str
    required: true
  alias:
    description:
      - Read only the logs of this alias of O(domain), the part before the C(@), for example V(contact).
      - Left out, the logs of the whole domain.
    type: str
  next_cursor:
    description:
      - Start after this log entry (a log C(id), or the RV(next_cursor) of an earlier run).
      - Left out, start with the newest entry.
    type: str
  max_entries:
    description:
      - The most log entries to collect, across as many pages as that takes.
      - Must be at least V(1).
    type: int
    default: 100
  only_failed:
    description:
      - When V(true), only the failed deliveries (the API's C(filter=failure)), that is refused and bounced e-mails.
      - Combines with O(alias), O(next_cursor) and O(max_entries).
    type: bool
    default: false
seealso:
  - module: improvmx.email.improvmx_domain_info
  - module: improvmx.email.improvmx_alias_info
  - name: ImprovMX API reference
    description: The logs endpoints.
    link: https://improvmx.com/api/#logs
'''

EXAMPLES = r'''
- name: The 100 newest log entries of a domain
  improvmx.email.improvmx_log_info:
    domain: example.com
    api_key: "{{ improvmx_api_key }}"
  register: recent

- name: Show the e-mails ImprovMX refused (they have no forward)
  ansible.builtin.debug:
    msg: "{{ item.subject }} from {{ item.sender.email }}: {{ item.events | map(attribute='status') | join(' > ') }}"
  loop: "{{ recent.logs | rejectattr('forward') | list }}"
  loop_control:
    label: "{{ item.id }}"

- name: Only the failed deliveries of the domain
  improvmx.email.improvmx_log_info:
    domain: example.com
    only_failed: true
    api_key: "{{ improvmx_api_key }}"
  register: failures

- name: Show when each failed e-mail arrived (created is in milliseconds since the epoch)
  ansible.builtin.debug:
    msg: "{{ '%Y-%m-%d %H:%M:%S' | strftime((item.created / 1000) | int, utc=true) }} {{ item.subject }}"
  loop: "{{ failures.logs }}"
  loop_control:
    label: "{{ item.id }}"

- name: The logs of one alias, 20 at a time
  improvmx.email.improvmx_log_info:
    domain: example.com
    alias: contact
    max_entries: 20
    api_key: "{{ improvmx_api_key }}"
  register: first_page

- name: The next 20 (when there are more)
  improvmx.email.improvmx_log_info:
    domain: example.com
    alias: contact
    max_entries: 20
    next_cursor: "{{ first_page.next_cursor }}"
    api_key: "{{ improvmx_api_key }}"
  register: second_page
  when: first_page.next_cursor is not none
'''

RETURN = r'''
logs:
  description:
    - The log entries, newest first, as the API describes them; at most O(max_entries) of them.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The entry's identifier (usable as O(next_cursor)).
      type: str
      sample: 20201002014128.5ea8ee59fa894aa7a9141e9665985b46
    created:
      description: When the e-mail arrived, in milliseconds since the epoch (an integer).
      type: int
      sample: 1579954749000
    created_raw:
      description: When the e-mail arrived, in RFC 2822 form.
      type: str
      sample: Sat, 25 Jan 2020 12:19:09 GMT
    subject:
      description: The e-mail's subject.
      type: str
      sample: Quarterly report
    sender:
      description: The sender, with C(email) and C(name).
      type: dict
      sample: {"email": "alice@example.org", "name": "Alice"}
    recipient:
      description: The recipient at the domain, with C(email) and C(name).
      type: dict
      sample: {"email": "contact@example.com", "name": null}
    forward:
      description: Where the e-mail was forwarded, with C(email) and C(name); V(null) when it was refused.
      type: dict
      sample: {"email": "owner@example.org", "name": null}
    url:
      description: Where the API serves the raw message, when it kept it.
      type: str
      sample: https://storage.improvmx.com/messages/20201002014128.5ea8ee59fa894aa7a9141e9665985b46
    saved:
      description: Whether ImprovMX kept the message (so that RV(logs[].url) serves it).
      type: bool
      sample: true
    events:
      description:
        - What ImprovMX did with the e-mail, in order. C(status) is one of C(QUEUED), C(REFUSED),
          C(DELIVERED), C(SOFT-BOUNCE), C(HARD-BOUNCE).
      type: list
      elements: dict
      contains:
        created:
          description: When it happened, in milliseconds since the epoch (an integer).
          type: int
          sample: 1579954751000
        status:
          description: What happened.
          type: str
          sample: DELIVERED
        recipient:
          description: Who the event is about (the alias, or the destination it was forwarded to), with C(email) and C(name).
          type: dict
          sample: {"email": "owner@example.org", "name": null}
        code:
          description: The SMTP code.
          type: int
          sample: 250
        message:
          description: The SMTP message.
          type: str
          sample: Queued
      sample: [{"code": 250, "created": 1579954751000, "id": "some_random_id", "local": "mxb.infra.improvmx.com",
                "message": "Queued", "server": "mail-io1-f54.google.com", "status": "QUEUED",
                "recipient": {"email": "contact@example.com", "name": null}}]
    hostname:
      description: The host that sent the e-mail to ImprovMX.
      type: str
      sample: mail-io1-f54.google.com
    messageId:
      description: The e-mail's message id.
      type: str
      sample: some_random_id
    transport:
      description: How the e-mail arrived.
      type: str
      sample: smtp
next_cursor:
  description:
    - The C(id) of the last entry returned, to give back as O(next_cursor) to read the entries after it.
    - V(null) when the API has no more entries after RV(logs).
  returned: success
  type: str
  sample: 20201002014128.7ea8ee59fa894aa7a91415a6659c5b46
api_retries:
  description: What the client had to retry or recover (rate limits, server errors), one line each.
  returned: when a request had to be retried
  type: list
  elements: str
  sample: ["GET domains/example.com/logs: HTTP 429, retrying after 2.0 s"]
'''

from ansible_collections.improvmx.email.plugins.module_utils.logs import Logs
from ansible_collections.improvmx.email.plugins.module_utils.runner import DOMAIN_OPTION, ImprovMXModule
from ansible_collections.improvmx.email.plugins.module_utils.validation import mailbox_name, single_word


class LogInfoModule(ImprovMXModule):
    domain_option = DOMAIN_OPTION
    options = dict(
        alias=dict(type='str'),
        next_cursor=dict(type='str', no_log=False),
        max_entries=dict(type='int', default=100),
        only_failed=dict(type='bool', default=False),
    )

    def check(self):
        self.alias = self.option('alias', mailbox_name, allow_catch_all=True)
        self.cursor = self.option('next_cursor', single_word, 'leave it out to start with the newest entry',
                                  '; it must be a log id or the next_cursor of an earlier run')
        if self.params['max_entries'] < 1:
            self.fail('max_entries must be at least 1, got %d' % self.params['max_entries'])

    def run(self):
        logs, following = Logs(self.client, self.domain).collect(self.alias, self.cursor, self.params['max_entries'],
                                                                 only_failed=self.params['only_failed'])
        return dict(logs=logs, next_cursor=following)


def main():
    LogInfoModule.main()


if __name__ == '__main__':
    main()

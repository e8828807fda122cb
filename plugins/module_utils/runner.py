# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one module runner: every module is a subclass of ImprovMXModule.

ImprovMXModule.main() builds the AnsibleModule (the connection options of
common.improvmx_argument_spec plus the module's options and fields), checks the domain
option when the module takes one (domain_option), runs the module's check() before any
request, creates the client (common.client_from_module checks the connection options),
runs run() and turns its answer into exit_json, adding api_retries.
An ImprovMXError becomes one fail_json (msg, status, api_errors, api_retries); a
TaskError is a problem the module reports as it is. Both carry changed=False unless
the module already wrote something (self.changed).

SyncModule is the base of the modules that make a whole list as declared (improvmx_aliases,
improvmx_rules, improvmx_domains): the purge and allow_empty_purge options, the refusal of
an empty list with purge, and changed/failure_result taken from the sync object.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.improvmx.email.plugins.module_utils.api import ImprovMXError
from ansible_collections.improvmx.email.plugins.module_utils.common import (
    checked,
    client_from_module,
    exit_module,
    fail_api,
    improvmx_argument_spec,
)
from ansible_collections.improvmx.email.plugins.module_utils.fields import field_options, wanted_values
from ansible_collections.improvmx.email.plugins.module_utils.resource import TaskError
from ansible_collections.improvmx.email.plugins.module_utils.validation import domain_name

# The domain a module works on (ImprovMXModule.domain_option); DOMAIN_OR_NAME also takes `name`.
DOMAIN_OPTION = dict(type='str', required=True)
DOMAIN_OR_NAME = dict(DOMAIN_OPTION, aliases=['name'])

PURGE_OPTIONS = dict(
    purge=dict(type='bool', default=False),
    allow_empty_purge=dict(type='bool', default=False),
)


class ImprovMXModule(object):
    """Base class of the modules.

    A subclass declares:

    * options: its argument spec (the connection options are added);
    * domain_option: the spec of its `domain` option, if it takes one (DOMAIN_OPTION, DOMAIN_OR_NAME);
      the runner adds it and checks it first, into self.domain (None when not given);
    * fields: Field declarations (module_utils.fields); their options are added too;
    * module_kwargs: more AnsibleModule keywords (mutually_exclusive, ...);
    * explain_error: optional function(error, secrets) that rewrites an API error before it is shown;

    and implements check() (option checks, before any request) and run() (returns the result
    dict: changed, diff, the return values). self.client is the ImprovMXClient during run().
    """

    options = {}
    domain_option = None
    fields = ()
    module_kwargs = {}
    explain_error = None
    changed = False  # whether the run wrote something (a subclass may make it a property)

    def __init__(self):
        self.module = AnsibleModule(argument_spec=improvmx_argument_spec(**self.argument_spec()), supports_check_mode=True,
                                    **self.module_kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.client = None
        self.domain = None

    def argument_spec(self):
        """The module's own options: options, the domain option and the fields' options."""
        spec = dict(self.options)
        if self.domain_option is not None:
            spec['domain'] = self.domain_option
        spec.update(field_options(self.fields))
        return spec

    # -- helpers for check() and run() ------------------------------------

    def option(self, name, check, *args, **kwargs):
        """The checked value of an option (None when not given); fails naming the option when wrong."""
        return checked(self.module, name, check, *args, **kwargs)

    def wanted(self):
        """The declared fields the task manages, checked: dict name -> value."""
        try:
            return wanted_values(self.params, self.fields)
        except ValueError as exc:
            self.module.fail_json(msg=str(exc))

    def fail(self, msg, **result):
        """fail_json with changed=self.changed unless given, and api_retries."""
        result.setdefault('changed', self.changed)
        if self.client is not None and self.client.retry_events:
            result['api_retries'] = list(self.client.retry_events)
        self.module.fail_json(msg=msg, **result)

    def warn(self, message):
        self.module.warn(message)

    # -- what a module implements ------------------------------------------

    def check(self):
        """Check the options; called before the client is made, so before any request."""

    def run(self):
        """Do the work through the resources and return the result dict."""
        raise NotImplementedError

    def failure_result(self):
        """Return values to add when the module fails after it started (default: none)."""
        return {}

    # -- the run ------------------------------------------------------------

    def secrets(self):
        """The values of the no_log options, which must never appear in output."""
        spec = self.module.argument_spec
        return [self.params[name] for name in spec if spec[name].get('no_log') and self.params.get(name)]

    def execute(self):
        if self.domain_option is not None:
            self.domain = self.option('domain', domain_name)
        self.check()
        self.client = client_from_module(self.module)
        try:
            result = self.run()
        except ImprovMXError as exc:
            if self.explain_error is not None:
                exc = self.explain_error(exc, self.secrets())  # pylint: disable=not-callable
            fail_api(self.module, self.client, exc, changed=self.changed, **self.failure_result())
        except TaskError as exc:
            extra = self.failure_result()
            extra.update(exc.result)
            self.fail(str(exc), **extra)
        result.setdefault('changed', self.changed)
        exit_module(self.module, self.client, **result)

    @classmethod
    def main(cls):
        cls().execute()


class SyncModule(ImprovMXModule):
    """A module that makes a whole list as declared, through a sync object made in run().

    The sync object (self.sync) offers result() (the return values so far, also on failure)
    and applied (whether the run changed something, what a failure reports as changed); the
    purge options are added to the subclass's options, and its check() calls refuse_empty_purge().
    """

    sync = None

    def argument_spec(self):
        spec = super(SyncModule, self).argument_spec()
        spec.update(PURGE_OPTIONS)
        return spec

    @property
    def changed(self):
        return self.sync is not None and self.sync.applied

    def refuse_empty_purge(self, declared, msg):
        """Fail with msg when purge is true, the declared list is empty and allow_empty_purge is not set."""
        if self.params['purge'] and not declared and not self.params['allow_empty_purge']:
            self.fail(msg)

    def failure_result(self):
        return self.sync.result() if self.sync is not None else {}

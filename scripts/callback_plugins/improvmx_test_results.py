# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Callback used by the test suite's ``run_playbook`` fixture (tests/conftest.py).

It records every task result and the final per-host stats as one JSON document.
The document is written to the file named by ``IMPROVMX_TEST_RESULTS_FILE``
(when set) and, when the plugin is the stdout callback, printed to stdout.

ansible-core ships no JSON callback (``ansible.posix.json`` lives in a collection
this project does not depend on), hence this small test-only plugin.

Enable it either as the stdout callback (``ANSIBLE_STDOUT_CALLBACK``) with
``IMPROVMX_TEST_CALLBACK_TYPE=stdout``, or next to the default stdout callback
(``ANSIBLE_CALLBACKS_ENABLED``) with ``IMPROVMX_TEST_CALLBACK_TYPE=aggregate``.
"""

from __future__ import annotations

import datetime
import json
import os
import sys

from ansible.plugins.callback import CallbackBase

try:
    from ansible.vars.clean import module_response_deepcopy, strip_internal_keys
except ImportError:  # pragma: no cover - very old ansible-core
    module_response_deepcopy = None
    strip_internal_keys = None

DOCUMENTATION = """
    name: improvmx_test_results
    type: aggregate
    short_description: Record task results and stats as JSON for the improvmx.email test suite
    description:
        - Test-only callback. Writes a JSON document with plays, tasks, per-host results and stats.
    options: {}
"""

_CALLBACK_TYPE = os.environ.get('IMPROVMX_TEST_CALLBACK_TYPE', 'aggregate')


def _json_default(value):
    """Serialise anything json does not know natively (sentinels, dates, sets, ...)."""
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode('utf-8', errors='replace')
    return str(value)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class CallbackModule(CallbackBase):
    """Collect plays, tasks, host results and stats into one JSON document."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout' if _CALLBACK_TYPE == 'stdout' else 'aggregate'
    CALLBACK_NAME = 'improvmx_test_results'
    CALLBACK_NEEDS_ENABLED = CALLBACK_TYPE != 'stdout'

    def __init__(self, display=None):
        super().__init__(display=display)
        self.plays = []
        self.tasks = []
        self._task_index = {}

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _result_parts(result):
        host = getattr(result, 'host', None) or result._host  # pylint: disable=protected-access
        task = getattr(result, 'task', None) or result._task  # pylint: disable=protected-access
        data = getattr(result, 'result', None)
        if data is None:
            data = result._result  # pylint: disable=protected-access
        return host, task, data

    @staticmethod
    def _clean(data):
        if strip_internal_keys is not None:
            data = strip_internal_keys(module_response_deepcopy(data))
        else:  # pragma: no cover
            data = {key: value for key, value in data.items() if not str(key).startswith('_ansible_')}
        # Round-trip through JSON so the document holds plain types only.
        return json.loads(json.dumps(data, default=_json_default))

    def _new_task(self, task, is_handler=False):
        entry = {
            'name': task.get_name().strip(),
            'action': getattr(task, 'action', None),
            'id': str(task._uuid),  # pylint: disable=protected-access
            'handler': is_handler,
            'play': self.plays[-1]['name'] if self.plays else None,
            'started': _now(),
            'hosts': {},
            'status': {},
        }
        self.tasks.append(entry)
        if self.plays:
            self.plays[-1]['task_ids'].append(entry['id'])
        self._task_index[entry['id']] = entry
        return entry

    def _task_entry(self, task):
        entry = self._task_index.get(str(task._uuid))  # pylint: disable=protected-access
        if entry is None:
            entry = self._new_task(task)
        return entry

    def _record(self, result, status):
        host, task, data = self._result_parts(result)
        entry = self._task_entry(task)
        cleaned = self._clean(data)
        # ansible-core drops 'failed' and 'skipped' from what callbacks see (the event says it);
        # put them back so a recorded result reads like the registered variable.
        cleaned['failed'] = status in ('failed', 'ignored')
        if status == 'skipped':
            cleaned['skipped'] = True
        # ansible-core 2.21 also drops 'skipped' from the skipped items of a loop.
        for item in cleaned.get('results') or []:
            if isinstance(item, dict) and 'false_condition' in item and 'skipped' not in item:
                item['skipped'] = True
        warnings = getattr(result, 'warnings', None)
        if warnings and 'warnings' not in cleaned:
            cleaned['warnings'] = [getattr(w, 'msg', None) or str(w) for w in warnings]
        entry['hosts'][host.get_name()] = cleaned
        entry['status'][host.get_name()] = status

    # --- play / task events -----------------------------------------------------------------

    def v2_playbook_on_play_start(self, play):
        self.plays.append({'name': play.get_name().strip(), 'id': str(play._uuid), 'task_ids': []})  # pylint: disable=protected-access

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._new_task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._new_task(task, is_handler=True)

    # --- results ----------------------------------------------------------------------------

    def v2_runner_on_ok(self, result):
        _host, _task, data = self._result_parts(result)
        self._record(result, 'changed' if data.get('changed') else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self._record(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    v2_runner_on_async_failed = v2_runner_on_failed
    v2_runner_on_async_ok = v2_runner_on_ok

    # --- end of run -------------------------------------------------------------------------

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed.keys())
        summary = {}
        for host in hosts:
            summary[host] = stats.summarize(host)
        document = {
            'plays': self.plays,
            'tasks': self.tasks,
            'stats': summary,
            'custom_stats': self._clean_custom(stats),
        }
        text = json.dumps(document, default=_json_default, indent=2, sort_keys=True)
        path = os.environ.get('IMPROVMX_TEST_RESULTS_FILE')
        if path:
            with open(path, 'w', encoding='utf-8') as results_file:
                results_file.write(text)
        if self.CALLBACK_TYPE == 'stdout':
            sys.stdout.write(text + '\n')
            sys.stdout.flush()

    @staticmethod
    def _clean_custom(stats):
        custom = getattr(stats, 'custom', None) or {}
        return json.loads(json.dumps(custom, default=_json_default))

# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fake log entries shaped like the API's, for seeded domains."""

from __future__ import absolute_import, division, print_function

import email.utils
from datetime import datetime, timezone

from .common import FAILED_LOG_STATUSES

__metaclass__ = type  # pylint: disable=invalid-name


_SENDERS = [
    ('gavin@hooli.com', 'Gavin Belson'),
    ('russ@threecommas.com', 'Russ Hanneman'),
    ('laurie@raviga.com', 'Laurie Bream'),
    ('noreply@github.com', 'GitHub'),
    ('billing@aws.example', 'AWS Billing'),
    ('spam@spam.example', 'ThinkTeam'),
]
_SUBJECTS = [
    'Quarterly numbers', 'Re: Series A', 'Your invoice is available', 'Meeting tomorrow?',
    'Welcome aboard', 'Password reset requested', 'Weekly digest', 'Enlarge your (pied)piper!',
]
_OUTCOMES = ['DELIVERED'] * 6 + ['REFUSED', 'SOFT-BOUNCE', 'HARD-BOUNCE']


def _ms(ts):
    """Seconds since the epoch -> integer milliseconds, as the live API sends log times."""
    return int(ts) * 1000


def log_failed(entry):
    """True for a log entry whose delivery failed (what ``?filter=failure`` keeps)."""
    events = entry.get('events') or []
    return bool(events) and events[-1].get('status') in FAILED_LOG_STATUSES


def make_log_entry(rng, domain, local_part, forward_email, ts):
    """One log entry shaped like the reference's, with the live API's integer millisecond times,
    ``url``, ``saved`` and each event's ``recipient``."""
    when = datetime.fromtimestamp(int(ts), timezone.utc)
    log_id = '%s.%032x' % (when.strftime('%Y%m%d%H%M%S'), rng.getrandbits(128))
    sender_email, sender_name = rng.choice(_SENDERS)
    outcome = rng.choice(_OUTCOMES)
    message_id = '<%016x@%s>' % (rng.getrandbits(64), sender_email.split('@')[1])
    hostname = 'mail-%s-f%d.google.com' % (rng.choice(['io1', 'pj1', 'wm1', 'lf1']), rng.randint(10, 99))
    mx_local = rng.choice(['mxa', 'mxb', 'mxc']) + '.infra.improvmx.com'
    recipient = {'email': '%s@%s' % (local_part, domain), 'name': None}
    queued = {'code': 250, 'created': _ms(ts + 1), 'id': message_id, 'local': mx_local,
              'message': 'Queued', 'recipient': dict(recipient), 'server': hostname, 'status': 'QUEUED'}
    if outcome == 'REFUSED':
        events = [{'code': 550, 'created': _ms(ts + 1), 'id': message_id, 'local': mx_local,
                   'message': '5.7.1 Message considered as SPAM (Score of 5.8/5.0)', 'recipient': dict(recipient),
                   'server': hostname, 'status': 'REFUSED'}]
        forward = None
    else:
        final = {
            'DELIVERED': (250, 'Sent.'),
            'SOFT-BOUNCE': (421, '4.7.0 Try again later, closing connection.'),
            'HARD-BOUNCE': (550, '5.1.1 The email account that you tried to reach does not exist.'),
        }[outcome]
        events = [queued, {'code': final[0], 'created': _ms(ts + 2), 'id': message_id, 'local': 'gmail-smtp-in.l.google.com',
                           'message': final[1], 'recipient': {'email': forward_email, 'name': None},
                           'server': 'mail%d.%s' % (rng.randint(1, 20), mx_local), 'status': outcome}]
        forward = {'email': forward_email, 'name': None}
    saved = outcome != 'REFUSED'
    return {
        'created': _ms(ts),
        'created_raw': email.utils.format_datetime(when, usegmt=True),
        'events': events,
        'forward': forward,
        'hostname': hostname,
        'id': log_id,
        'messageId': message_id,
        'recipient': recipient,
        'saved': saved,
        'sender': {'email': sender_email, 'name': sender_name},
        'subject': rng.choice(_SUBJECTS),
        'transport': 'smtp',
        'url': 'https://storage.improvmx.example/%s/%s.eml' % (domain, log_id),
    }

# -*- coding: utf-8 -*-
# Copyright (c) improvmx.email contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The aliases of a domain: /domains/:domain/aliases/, and the convergence the modules run.

* Aliases: the resource (get, iterate, create, update, rename, delete, bulk).
* AliasTask (one alias, improvmx_alias) and AliasSync (a whole set, improvmx_aliases):
  the convergence the modules run, in check mode too.

The alias sets as data (normal forms, comparison, planning) are in alias_sets.py; their names
are also importable from here.

A path segment of digits may name an alias id as well as an alias name (docs/api-behaviour.md):
Aliases.fetch() never returns an alias whose name is not the one asked for, and every write to
one alias goes through Aliases.segment(), the path segment that is known to address it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.improvmx.email.plugins.module_utils.account import Account
from ansible_collections.improvmx.email.plugins.module_utils.alias_sets import (  # noqa: F401 (re-exported, __all__)
    AliasChanges, BULK_LIMIT, CATCH_ALL, alias_name, apply_changes, bulk_batches, bulk_body, bulk_requests, chunked,
    diff_view, forward_key, forward_list, forward_string, has_forward, index_current, name_key, named_with_prefix,
    over_destinations_limit, parse_desired, plan_changes, same_forward, same_name, split_forward,
)
from ansible_collections.improvmx.email.plugins.module_utils.resource import (
    Confirmed,
    DomainMissing,
    DomainResource,
    TaskError,
    says_exists,
)
from ansible_collections.improvmx.email.plugins.module_utils.validation import is_regex_alias

__all__ = [
    'AliasChanges', 'BULK_LIMIT', 'CATCH_ALL', 'alias_name', 'apply_changes', 'bulk_batches', 'bulk_body',
    'bulk_requests', 'chunked', 'diff_view', 'forward_key', 'forward_list', 'forward_string', 'has_forward',
    'index_current', 'name_key', 'named_with_prefix', 'over_destinations_limit', 'parse_desired', 'plan_changes',
    'same_forward', 'same_name', 'split_forward', 'Aliases', 'AliasTask', 'AliasSync', 'alias_view',
    'failure_entry', 'REASON_KEYS',
]


class Aliases(DomainResource):
    """The aliases of one domain; objects are the API's alias dicts. DomainMissing when the domain is not there."""

    def __init__(self, client, domain):
        super(Aliases, self).__init__(client, domain)
        # Keys of names whose path segment addressed another alias (an id): they are written by id.
        self.shadowed = set()

    def path_of(self, *segments, **kwargs):
        return self.domain_path('aliases', *segments, **kwargs)

    def address(self, obj, *segments):
        """The path of obj (an alias object), or of segments under it, through the segment known to address it."""
        return self.path_of(str(self.segment(obj)), *segments)

    def fetch(self, name):
        """One alias by its name, or None; never another alias.

        A GET of a numeric name may answer with the alias whose id it is: then the alias is
        looked for by name in the listing, and its name is remembered as shadowed (segment()).
        """
        obj = self.read(self.path_of(name), 'alias')
        if obj is None or same_name(obj.get('alias'), name):
            return obj
        self.shadowed.add(name_key(name))
        return self.find_named(name)

    def find_named(self, name):
        """The alias of that name in the listing (filtered by the name for a plain name), or None."""
        params = None if is_regex_alias(name) else {'alias': name_key(name)}
        return self.find(lambda item: same_name(item.get('alias'), name), params=params)

    def note_ids(self, current):
        """Mark the numeric names of an alias set (name_key -> object) that are also the id of another alias."""
        ids = dict((obj.get('id'), key) for key, obj in current.items())
        for key in current:
            if key.isdigit() and ids.get(int(key), key) != key:
                self.shadowed.add(key)

    def segment(self, obj):
        """The path segment that addresses the alias obj: its name, or its id when the name addresses another alias.

        An id segment is used only after a GET of it answered with this very alias; otherwise
        TaskError, before any write.
        """
        name = obj.get('alias')
        if name_key(name) not in self.shadowed:
            return name
        ident = obj.get('id')
        other = self.read(self.path_of(str(ident)), 'alias') if ident is not None else None
        if other is not None and other.get('id') == ident and same_name(other.get('alias'), name):
            return str(ident)
        raise TaskError('alias %r of %s cannot be addressed safely: the path segment %r names another alias '
                        '(an alias id), and its own id %s does not address it either; nothing was changed'
                        % (name, self.domain, name, ident))

    def iterate(self, params=None):
        """Every alias (all pages), optionally filtered by the API's alias/q prefixes."""
        return self.items(self.path_of(collection=True), 'aliases', params=params)

    def find(self, predicate, params=None):
        """The first alias of the list that matches (reads page by page, stops early)."""
        for item in self.iterate(params):
            if predicate(item):
                return item
        return None

    def index(self):
        """The whole set: a dict from name_key to alias object."""
        return index_current(self.iterate())

    def create(self, name, forward):
        """Add an alias: (True, alias), or (False, current) when another run added it first."""
        data = {'alias': name, 'forward': forward_string(forward)}
        with self.settled():
            created, obj = super(Aliases, self).create(
                self.path_of(collection=True), data, 'alias', reread=lambda: self.fetch(name),
                applied=lambda now: has_forward(now, forward), find=lambda: self.fetch(name) or self.find_named(name))
        return created, obj or self.fetch(name)

    def update(self, stored, forward, name=None, ident=None):
        """PUT new destinations (and a new name) of the alias stored under stored (a path segment: name or id)."""
        name = name or stored
        data = {'forward': forward_string(forward)}
        if name != stored:
            data = {'alias': name, 'forward': data['forward']}
        after = self.write('PUT', self.path_of(str(stored)), data, 'alias', reread=lambda: self.fetch(name),
                           applied=lambda now: has_forward(now, forward, ident))
        if isinstance(after, dict) and after.get('alias') is not None and not same_name(after.get('alias'), name):
            raise TaskError('the API answered the update of alias %r of %s with alias %r (id %s)'
                            % (name, self.domain, after.get('alias'), after.get('id')))
        return after

    def discard(self, stored, segment=None):
        """Delete the alias: True when this run removed it, False when another run had.

        stored is an alias object (addressed through segment(), unless segment is given) or a name.
        """
        if isinstance(stored, dict):
            name = stored.get('alias')
            segment = segment or self.segment(stored)
        else:
            name = segment = stored
        return self.delete(self.path_of(segment), reread=lambda: self.fetch(name))

    def bulk(self, behavior, chunk):
        """One POST /aliases/bulk of chunk [(name, destinations)]: (applied, failed), lists of alias objects.

        failed objects carry the API's reason (error, reason, ...). When the answer is lost, a
        re-read of the set tells which entries are in place; an entry of a bulk add that now
        exists with other destinations comes back failed for existing (another run added it).
        """
        def settled(now):
            return any(name in now and (behavior == 'add' or has_forward(now[name], forward)) for name, forward in chunk)

        answer = self.send('POST', self.path_of('bulk'), bulk_body(behavior, chunk), reread=self.index, applied=settled,
                           key=('added', 'updated', 'failed'))
        if not isinstance(answer, Confirmed):
            answer = answer or {}
            return list(answer.get('added') or []) + list(answer.get('updated') or []), list(answer.get('failed') or [])
        applied, failed = [], []
        for name, forward in chunk:
            obj = answer.value.get(name)
            if has_forward(obj, forward):
                applied.append(obj)
            elif obj and behavior == 'add':
                failed.append(dict(obj, error='already exists: another run added it meanwhile'))
            else:
                failed.append({'alias': name, 'forward': forward_string(forward),
                               'error': 'not applied: the bulk request got no clear answer from the API'})
        return applied, failed


class AliasTask(object):
    """One alias made present, renamed or absent; each returns (changed, before, after)."""

    def __init__(self, aliases, check_mode=False):
        self.aliases = aliases
        self.check_mode = check_mode

    def within_limit(self, name, forward):
        """Fail before the write when forward has more destinations than the account allows."""
        if forward is None or len(split_forward(forward)) < 2:
            return
        problems = over_destinations_limit([(name, forward)], Account(self.aliases.client).destinations_limit())
        if problems:
            raise TaskError('forward: %s; nothing was changed' % '; '.join(problems))

    def update(self, current, forward):
        """Set the destinations of an existing alias; (changed, after)."""
        if same_forward(current.get('forward'), forward):
            return False, current
        self.within_limit(current.get('alias'), forward)
        if self.check_mode:
            return True, dict(current, forward=forward_string(forward))
        after = self.aliases.update(self.aliases.segment(current), forward, name=current['alias'], ident=current.get('id'))
        return True, after or dict(current, forward=forward_string(forward))

    def present(self, name, forward):
        current = self.aliases.fetch(name)
        if current is None:
            self.within_limit(name, forward)
            if self.check_mode:
                return True, None, {'alias': name, 'forward': forward_string(forward)}
            created, current = self.aliases.create(name, forward)
            if created:
                return True, None, current
        changed, after = self.update(current, forward)
        return changed, current, after

    def rename(self, ident, name, forward):
        """Give the alias with this id the name (and destinations, when given)."""
        current = self.aliases.fetch(name)
        if current is not None:
            if current.get('id') != ident:
                raise TaskError('cannot give alias id %d the name %r: alias %r (id %s) already has it'
                                % (ident, name, current.get('alias'), current.get('id')))
            if forward is None:
                return False, current, current
            changed, after = self.update(current, forward)
            return changed, current, after
        current = self.aliases.find(lambda item: item.get('id') == ident)
        if current is None:
            raise TaskError('there is no alias with id %d in domain %s' % (ident, self.aliases.domain))
        wanted = forward if forward is not None else current.get('forward')
        if not same_forward(current.get('forward'), wanted):
            self.within_limit(name, wanted)
        after = dict(current, alias=name, forward=forward_string(wanted))
        # The id segment could name another alias (one named by these digits): write only when it addresses this one.
        addressed = self.aliases.read(self.aliases.path_of(str(ident)), 'alias')
        if addressed is None or addressed.get('id') != ident:
            raise TaskError('the path segment %r of domain %s does not address alias id %d (the API answered with %r); '
                            'nothing was changed' % (str(ident), self.aliases.domain, ident,
                                                     addressed.get('alias') if addressed else None))
        if self.check_mode:
            return True, current, after
        return True, current, self.aliases.update(ident, wanted, name=name, ident=ident) or after

    def absent(self, name):
        current = self.aliases.fetch(name)
        if current is None:
            return False, None, None
        if not self.check_mode and not self.aliases.discard(current):
            return False, None, None  # another run removed it meanwhile: absent all the same
        return True, current, None


def alias_view(obj):
    """What the diff shows of one alias."""
    if not obj:
        return {}
    return {'alias': obj.get('alias'), 'forward': forward_string(obj.get('forward'))}


REASON_KEYS = ('error', 'errors', 'reason', 'message')


def failure_entry(obj, sent_forward):
    """An entry of failed_aliases: the alias, its destinations and the API's reason."""
    if not isinstance(obj, dict):
        obj = {'alias': None, 'error': str(obj)}
    entry = {'alias': obj.get('alias'), 'forward': obj.get('forward')}
    if entry['forward'] is None and sent_forward is not None:
        entry['forward'] = forward_string(sent_forward)
    for key in REASON_KEYS:
        if obj.get(key):
            entry['error'] = obj[key] if isinstance(obj[key], str) else str(obj[key])
            break
    else:
        entry['error'] = 'the API gave no reason'
    return entry


class AliasSync(object):
    """Converge the alias set of one domain; remembers what it applied, for honest reporting on failure."""

    def __init__(self, aliases, destinations_limit=None):
        self.aliases = aliases
        # A function giving the account's limits.destinations (improvmx_domains reads it once for many domains).
        self.destinations_limit = destinations_limit or Account(aliases.client).destinations_limit
        self.current = None
        self.final = None
        self.added = []
        self.updated = []
        self.removed = []
        self.failed = []

    @property
    def applied(self):
        return bool(self.added or self.updated or self.removed)

    def run(self, desired, order, purge=False, check_mode=False, current=None):
        """Read the set, plan the changes to desired, check the destinations limit, then apply or predict.

        current (name -> alias object) is the set as already read (improvmx_domains reads it from the
        domain list); without it, the set is read here.
        """
        if current is not None:
            self.current = dict(current)
        else:
            try:
                self.current = self.aliases.index()
            except DomainMissing:
                if not check_mode:
                    raise
                self.current = {}  # a domain an earlier task of the same run would add: predict from nothing
        self.aliases.note_ids(self.current)
        self.final = dict(self.current)
        changes = plan_changes(dict((name, obj.get('forward')) for name, obj in self.current.items()),
                               desired, purge=purge, order=order)
        writes = list(changes.added) + list(changes.updated)
        if any(len(forward) > 1 for _name, forward in writes):
            problems = over_destinations_limit(writes, self.destinations_limit())
            if problems:
                raise TaskError('aliases: %s; nothing was changed' % '; '.join(problems))
        # Every alias to delete must be addressable (a numeric name may be another alias's id) before any write.
        doomed = [(name, dict(self.current[name], alias=self.current[name].get('alias', name))) for name in changes.removed]
        segments = dict((name, self.aliases.segment(obj)) for name, obj in doomed)
        if check_mode:
            self.predict(changes)
            return
        for behavior, chunk in bulk_batches(changes):
            self.bulk(behavior, chunk)
        for name, obj in doomed:
            # discard() is False when someone else deleted it meanwhile: the set is as wanted all the same.
            if self.aliases.discard(obj, segment=segments[name]):
                self.removed.append(name)
            self.final.pop(name, None)

    def predict(self, changes):
        for name, forward in changes.added:
            self.final[name] = {'alias': name, 'forward': forward_string(forward)}
        for name, forward in changes.updated:
            self.final[name] = dict(self.current[name], forward=forward_string(forward))
        for name in changes.removed:
            self.final.pop(name, None)
        self.added = [name for name, _forward in changes.added]
        self.updated = [name for name, _forward in changes.updated]
        self.removed = list(changes.removed)

    def bulk(self, behavior, chunk):
        applied, failed = self.aliases.bulk(behavior, chunk)
        pending = dict(chunk)
        retry = []  # new aliases an update did not create: sent again with behavior add
        for obj in applied:
            name = name_key(obj.get('alias', '')) if isinstance(obj, dict) else None
            if name in pending:
                self.record(name, obj)
                del pending[name]
        taken = []
        for obj in failed:
            entry = obj if isinstance(obj, dict) else {'alias': None, 'error': str(obj)}
            name = name_key(entry.get('alias') or '')
            if behavior == 'add' and name in pending and says_exists(entry.get('error')):
                taken.append((name, pending.pop(name), entry))
                continue
            if behavior == 'update' and name in pending and name not in self.current:
                retry.append((name, pending.pop(name)))
                continue
            self.failed.append(failure_entry(entry, pending.pop(name, None)))
        if taken:
            self.converge_taken(taken)
        if behavior == 'update':
            retry.extend((name, forward) for name, forward in chunk if name in pending and name not in self.current)
            for name, _forward in retry:
                pending.pop(name, None)
        if retry:
            self.bulk('add', retry)
        # Entries the answer does not mention: look at what the API now holds.
        for name, forward in pending.items():
            now = self.aliases.fetch(name)
            if has_forward(now, forward):
                self.record(name, now)
            else:
                self.failed.append({'alias': name, 'forward': forward_string(forward),
                                    'error': 'the bulk answer does not mention this alias and it was not applied'})

    def converge_taken(self, taken):
        """Aliases another run added between our read and our bulk add: converge them, do not fail."""
        now = self.aliases.index()
        stale = []
        for name, forward, refusal in taken:
            obj = now.get(name)
            if obj is None:  # gone again: report the API's refusal as it is
                self.failed.append(failure_entry(refusal, forward))
                continue
            self.current[name] = obj
            if same_forward(obj.get('forward'), forward):
                self.final[name] = obj  # as wanted already: not a change of this run
            else:
                stale.append((name, forward))
        if stale:
            self.bulk('update', stale)

    def record(self, name, obj):
        if name in self.current:
            self.final[name] = dict(self.current[name], **obj)
            self.updated.append(name)
        else:
            self.final[name] = obj
            self.added.append(name)

    def result(self):
        """The return values: the set after the task, what was added, updated and removed."""
        if self.current is None:
            return {}
        return dict(
            aliases=[self.final[name] for name in sorted(self.final)],
            added=list(self.added),
            updated=list(self.updated),
            removed=list(self.removed),
        )

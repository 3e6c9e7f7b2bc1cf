#!/usr/bin/python3
"""A MongoDB wire-protocol test server for t/ (README.md beside it).

No MongoDB server can be installed here, so the MongoDB store is tested
against this: a standalone "mongod" that speaks OP_MSG (and the legacy
OP_QUERY handshake), keeps its documents in SQLite under --data (every
acknowledged write is committed before the reply, so a kill and a restart
on the same directory keep it), enforces unique and TTL indexes, knows the
query language the module and the official drivers use, SCRAM-SHA-256
and SCRAM-SHA-1, and mongod's "failCommand" fail point.  The official npm
driver runs t/mongo/clients/check.mjs against it to show it is faithful.

    fake_mongo.py --port 0 --data DIR [--port-file F] [--user U --password P]
    fake_mongo.py --client HOST:PORT --db DB --command JSON [--user U ...]

Run with Debian's /usr/bin/python3: it needs python3-bson.
"""

import argparse
import base64
import functools
import hashlib
import hmac
import os
import re
import signal
import socket
import socketserver
import sqlite3
import struct
import sys
import threading
import time

import bson
from bson import SON, ObjectId, Int64
from bson.codec_options import CodecOptions
from bson.json_util import JSONOptions, dumps as json_dumps, loads as json_loads

OPTS = CodecOptions(document_class=SON, tz_aware=True)
OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
MAX_BSON = 16 * 1024 * 1024


class CommandError(Exception):
    """An error reply (ok: 0), or a write error: code, codeName, errmsg,
    and fields a server adds (keyPattern, keyValue for 11000)."""

    def __init__(self, code, name, msg, **extra):
        super().__init__(msg)
        self.code, self.name, self.msg, self.extra = code, name, msg, extra
        self.labels = None


def bad(msg, code=2, name='BadValue'):
    return CommandError(code, name, msg)


# --- values: MongoDB's order of types, comparison, paths ----------------

def type_rank(v):
    if v is None:
        return 1
    if isinstance(v, bool):
        return 8
    if isinstance(v, (int, float)):
        return 2
    if isinstance(v, str):
        return 3
    if isinstance(v, dict):
        return 4
    if isinstance(v, list):
        return 5
    if isinstance(v, (bytes, bson.Binary)):
        return 6
    if isinstance(v, ObjectId):
        return 7
    if hasattr(v, 'timestamp') and hasattr(v, 'year'):
        return 9
    return 10


def cmp(a, b):
    ra, rb = type_rank(a), type_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 1:
        return 0
    if ra == 4:
        return cmp(list(a.items()), list(b.items()))
    if ra == 5:
        for x, y in zip(a, b):
            c = cmp(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if isinstance(a, tuple):
        c = (a[0] > b[0]) - (a[0] < b[0])
        return c or cmp(a[1], b[1])
    if ra == 7:
        a, b = a.binary, b.binary
    if ra == 3:
        a, b = a.encode(), b.encode()
    return (a > b) - (a < b)


def values_at(doc, path):
    """Every value the dotted path reaches, arrays expanded as MongoDB does."""
    parts = path.split('.')
    out = []

    def walk(v, i):
        if i == len(parts):
            out.append(v)
            return
        if isinstance(v, dict):
            if parts[i] in v:
                walk(v[parts[i]], i + 1)
            return
        if isinstance(v, list):
            if parts[i].isdigit() and int(parts[i]) < len(v):
                walk(v[int(parts[i])], i + 1)
            for e in v:
                if isinstance(e, dict):
                    walk(e, i)
    walk(doc, 0)
    return out


def expand(vals):
    """The values themselves and the elements of arrays among them."""
    out = []
    for v in vals:
        out.append(v)
        if isinstance(v, list):
            out.extend(v)
    return out


# --- the query language -------------------------------------------------

def match(doc, flt):
    for k, cond in flt.items():
        if k == '$and':
            if not all(match(doc, f) for f in cond):
                return False
        elif k == '$or':
            if not any(match(doc, f) for f in cond):
                return False
        elif k == '$nor':
            if any(match(doc, f) for f in cond):
                return False
        elif k.startswith('$'):
            raise bad('unknown top level operator: %s' % k)
        elif not match_field(values_at(doc, k), cond):
            return False
    return True


def is_operator_doc(cond):
    return isinstance(cond, dict) and cond and all(
        isinstance(k, str) and k.startswith('$') for k in cond)


def match_field(vals, cond):
    if is_operator_doc(cond):
        return all(match_op(vals, op, arg, cond) for op, arg in cond.items())
    if isinstance(cond, dict) and any(
            isinstance(k, str) and k.startswith('$') for k in cond):
        raise bad('unknown operator mixing in %s' % list(cond))
    return eq_any(vals, cond)


def is_regex(x):
    return isinstance(x, (bson.Regex, re.Pattern))


def regex_any(vals, pat, flags=0):
    if isinstance(pat, bson.Regex):
        pat, flags = pat.pattern, flags | pat.flags
    elif isinstance(pat, re.Pattern):
        pat, flags = pat.pattern, flags | (pat.flags & re.I)
    rx = re.compile(pat, flags & (re.I | re.M | re.S | re.X))
    return any(isinstance(v, str) and rx.search(v) for v in expand(vals))


def eq_any(vals, x):
    """Equality as a filter means it: an array matches when an element
    does, a regular expression is a pattern, null matches a missing field."""
    if is_regex(x):
        return regex_any(vals, x)
    if x is None and not vals:
        return True
    return any(cmp(v, x) == 0 for v in expand(vals))


def match_op(vals, op, arg, cond):
    ev = expand(vals)
    if op == '$eq':
        return eq_any(vals, arg)
    if op == '$ne':
        return not eq_any(vals, arg)
    if op in ('$gt', '$gte', '$lt', '$lte'):
        want = {'$gt': (1,), '$gte': (0, 1), '$lt': (-1,), '$lte': (-1, 0)}[op]
        return any(type_rank(v) == type_rank(arg) and cmp(v, arg) in want
                   for v in ev)
    if op == '$in':
        return any(eq_any(vals, a) for a in arg)
    if op == '$nin':
        return not any(eq_any(vals, a) for a in arg)
    if op == '$exists':
        return bool(vals) == bool(arg)
    if op == '$not':
        if is_regex(arg):
            return not regex_any(vals, arg)
        if not is_operator_doc(arg):
            raise bad('$not needs a regex or a document')
        return not match_field(vals, arg)
    if op == '$size':
        return any(isinstance(v, list) and len(v) == arg for v in vals)
    if op == '$all':
        return all(eq_any(vals, a) for a in arg)
    if op == '$elemMatch':
        return any(isinstance(v, list) and any(
            (match(e, arg) if isinstance(e, dict) and not is_operator_doc(arg)
             else match_field([e], arg)) for e in v) for v in vals)
    if op == '$regex':
        opts = cond.get('$options', '')
        flags = ((re.I if 'i' in opts else 0) | (re.M if 'm' in opts else 0)
                 | (re.S if 's' in opts else 0) | (re.X if 'x' in opts else 0))
        return regex_any(vals, arg, flags)
    if op == '$options':
        return True
    raise bad('unknown operator: %s' % op)


def sort_docs(docs, spec):
    """Sorted by spec, ties in their current order (sorted() is stable)."""
    fields = [(f, 1 if d > 0 else -1) for f, d in spec.items()
              if not isinstance(d, dict)]          # {$meta: ...}: ignored

    def sort_value(doc, field, d):
        # an array sorts by its least (ascending) or greatest element;
        # a missing field as null
        vals = []
        for v in values_at(doc, field):
            vals.extend(v if isinstance(v, list) and v else [v])
        if not vals:
            return None
        best = vals[0]
        for v in vals[1:]:
            if cmp(v, best) == -d:
                best = v
        return best

    keyed = [([sort_value(doc, f, d) for f, d in fields], doc) for doc in docs]

    def key_cmp(a, b):
        for (f, d), x, y in zip(fields, a[0], b[0]):
            c = cmp(x, y)
            if c:
                return c * d
        return 0
    return [doc for _, doc in sorted(keyed, key=functools.cmp_to_key(key_cmp))]


def project(doc, proj):
    if not proj:
        return doc
    inc = {k: v for k, v in proj.items() if k != '_id'}
    if inc and all(v for v in inc.values()):
        out = SON()
        if proj.get('_id', 1) and '_id' in doc:
            out['_id'] = doc['_id']
        for k in doc:
            if k in inc:
                out[k] = doc[k]
        return out
    out = SON((k, v) for k, v in doc.items()
              if not (k in proj and not proj[k]))
    return out


# --- updates ------------------------------------------------------------

def set_path(doc, path, value, unset=False):
    parts = path.split('.')
    d = doc
    for p in parts[:-1]:
        if p not in d or not isinstance(d[p], dict):
            if unset:
                return
            d[p] = SON()
        d = d[p]
    if unset:
        d.pop(parts[-1], None)
    else:
        d[parts[-1]] = value


def check_names(doc, top=True):
    for k, v in doc.items():
        if top and k.startswith('$'):
            raise CommandError(2, 'BadValue',
                               "Document can't have $ prefixed field names: %s" % k)
        if isinstance(v, dict):
            check_names(v, False)


UPDATE_OPS = ('$set', '$setOnInsert', '$unset', '$inc')


def apply_update(doc, u, inserting):
    """doc after the update u (a replacement or operators); doc is kept."""
    if isinstance(u, list):
        raise bad('pipeline updates are not supported by this test server')
    ops = [k for k in u if k.startswith('$')]
    if ops and len(ops) != len(u):
        raise CommandError(9, 'FailedToParse',
                           'Unknown modifier: %s. Expected a valid update '
                           'modifier or pipeline-style update specified as '
                           'an array' % next(k for k in u
                                               if not k.startswith('$')))
    if not ops:
        check_names(u)
        if '_id' in doc and '_id' in u and cmp(doc['_id'], u['_id']) != 0:
            raise immutable_id(doc)
        new = SON([('_id', doc['_id'])]) if '_id' in doc else SON()
        for k, v in u.items():
            if k != '_id' or '_id' not in new:
                new[k] = v
        return new
    new = bson.decode(bson.encode(doc, codec_options=OPTS),
                      codec_options=OPTS)
    for op, fields in u.items():
        if op not in UPDATE_OPS:
            raise CommandError(9, 'FailedToParse',
                               'Unknown modifier: %s. Expected a valid '
                               'update modifier or pipeline-style update '
                               'specified as an array' % op)
        for path, v in fields.items():
            if op == '$set' or (op == '$setOnInsert' and inserting):
                set_path(new, path, v)
            elif op == '$unset':
                set_path(new, path, None, unset=True)
            elif op == '$inc':
                cur = values_at(new, path)
                if type_rank(v) != 2 or (cur and type_rank(cur[0]) != 2):
                    raise CommandError(14, 'TypeMismatch',
                                       'Cannot apply $inc to a value of '
                                       'non-numeric type (%s)' % path)
                set_path(new, path, (cur[0] if cur else 0) + v)
    if '_id' in doc and cmp(doc['_id'], new.get('_id')) != 0:
        raise immutable_id(doc)
    return new


def immutable_id(doc):
    return CommandError(66, 'ImmutableField',
                        "Performing an update on the path '_id' would "
                        "modify the immutable field '_id'")


def upsert_base(q):
    """The document an upsert starts from: the filter's equalities
    ({a: 1}, {a: {$eq: 1}}, {'b.c': 2}, within $and), as mongod does."""
    base = SON()

    def take(q):
        for k, v in q.items():
            if k == '$and':
                for sub in v:
                    take(sub)
            elif k.startswith('$'):
                continue
            elif is_operator_doc(v):
                if '$eq' in v:
                    set_path(base, k, v['$eq'])
            elif not is_regex(v):
                set_path(base, k, v)
    take(q or {})
    return base


# --- the store ----------------------------------------------------------

def hkey(v):
    """A hashable key of a value, for the equality indexes."""
    return bson.encode({'v': v}, codec_options=OPTS)


class Collection:
    def __init__(self, db, name):
        self.db, self.name = db, name
        self.docs = {}             # hkey(_id) -> doc, insertion ordered
        self.indexes = SON()       # name -> spec
        self.eq = {}               # field -> {hkey(value): set(hkey(_id))}
        self.indexes['_id_'] = SON([('v', 2), ('key', SON([('_id', 1)])),
                                    ('name', '_id_')])

    def indexed_fields(self):
        return {next(iter(s['key'])) for n, s in self.indexes.items()
                if n != '_id_'}

    def reindex(self):
        self.eq = {f: {} for f in self.indexed_fields()}
        for k, d in self.docs.items():
            self._add_eq(k, d)

    def _add_eq(self, k, d):
        for f, idx in self.eq.items():
            for v in set(hkey(x) for x in expand(values_at(d, f))) or {hkey(None)}:
                idx.setdefault(v, set()).add(k)

    def _del_eq(self, k, d):
        for f, idx in self.eq.items():
            for v in set(hkey(x) for x in expand(values_at(d, f))) or {hkey(None)}:
                s = idx.get(v)
                if s:
                    s.discard(k)

    def candidates(self, flt):
        """The documents a filter may match: by _id or an indexed field."""
        if '_id' in flt and not isinstance(flt['_id'], dict):
            d = self.docs.get(hkey(flt['_id']))
            return [d] if d is not None else []
        for f, idx in self.eq.items():
            if f in flt and not is_operator_doc(flt[f]) \
                    and not isinstance(flt[f], (dict, list)):
                return [self.docs[k] for k in idx.get(hkey(flt[f]), ())
                        if k in self.docs]
        return list(self.docs.values())

    def find(self, flt):
        return [d for d in self.candidates(flt or {}) if match(d, flt or {})]

    def unique_check(self, doc, skip_key=None):
        """11000 when doc's key of a unique index is another's already."""
        for name, spec in self.indexes.items():
            if not spec.get('unique') and name != '_id_':
                continue
            fields = list(spec['key'])
            vals = [values_at(doc, f) for f in fields]
            vals = [v[0] if v else None for v in vals]
            if name == '_id_':
                k = hkey(doc['_id'])
                others = {k} if k in self.docs else set()
            elif len(fields) == 1 and fields[0] in self.eq:
                others = set(self.eq[fields[0]].get(hkey(vals[0]), ()))
            else:
                others = {k for k, o in self.docs.items() if all(
                    cmp(a, (values_at(o, f) or [None])[0]) == 0
                    for a, f in zip(vals, fields))}
            others.discard(skip_key)
            if others:
                kv = SON(zip(fields, vals))
                raise CommandError(
                    11000, 'DuplicateKey',
                    'E11000 duplicate key error collection: %s.%s index: '
                    '%s dup key: { %s }' % (
                        self.db, self.name, name,
                        ', '.join('%s: %s' % (f, json_dumps(v))
                                  for f, v in kv.items())),
                    keyPattern=SON(spec['key']), keyValue=kv)

    def put(self, doc, replace_key=None):
        self.unique_check(doc, replace_key)
        if replace_key is not None:
            self._del_eq(replace_key, self.docs[replace_key])
            del self.docs[replace_key]
        k = hkey(doc['_id'])
        self.docs[k] = doc
        self._add_eq(k, doc)
        return k

    def delete(self, k):
        d = self.docs.pop(k)
        self._del_eq(k, d)


class Store:
    """Documents in memory, written through to SQLite under --data."""

    def __init__(self, path):
        self.lock = threading.RLock()
        self.colls = {}
        self.sql = sqlite3.connect(os.path.join(path, 'fake_mongo.sqlite'),
                                   check_same_thread=False)
        self.sql.executescript('''
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
            CREATE TABLE IF NOT EXISTS docs (db TEXT, coll TEXT, k BLOB,
                seq INTEGER PRIMARY KEY AUTOINCREMENT, doc BLOB,
                UNIQUE (db, coll, k));
            CREATE TABLE IF NOT EXISTS idx (db TEXT, coll TEXT, name TEXT,
                spec BLOB, PRIMARY KEY (db, coll, name));
            CREATE TABLE IF NOT EXISTS colls (db TEXT, coll TEXT,
                PRIMARY KEY (db, coll));''')
        for db, c in self.sql.execute('SELECT db, coll FROM colls'):
            self.colls[(db, c)] = Collection(db, c)
        for db, c, name, spec in self.sql.execute('SELECT * FROM idx'):
            self.coll(db, c).indexes[name] = bson.decode(spec, OPTS)
        for db, c, k, doc in self.sql.execute(
                'SELECT db, coll, k, doc FROM docs ORDER BY seq'):
            self.coll(db, c).docs[k] = bson.decode(doc, OPTS)
        for c in self.colls.values():
            c.reindex()

    def coll(self, db, name, create=True):
        c = self.colls.get((db, name))
        if c is None and create:
            c = self.colls[(db, name)] = Collection(db, name)
            self.sql.execute('INSERT OR IGNORE INTO colls VALUES (?, ?)',
                             (db, name))
        return c

    def save(self, c, k):
        if k in c.docs:
            self.sql.execute('DELETE FROM docs WHERE db=? AND coll=? AND k=?',
                             (c.db, c.name, k))
            self.sql.execute('INSERT INTO docs (db, coll, k, doc) '
                             'VALUES (?, ?, ?, ?)',
                             (c.db, c.name, k,
                              bson.encode(c.docs[k], codec_options=OPTS)))
        else:
            self.sql.execute('DELETE FROM docs WHERE db=? AND coll=? AND k=?',
                             (c.db, c.name, k))

    def save_indexes(self, c):
        self.sql.execute('DELETE FROM idx WHERE db=? AND coll=?',
                         (c.db, c.name))
        for name, spec in c.indexes.items():
            self.sql.execute('INSERT INTO idx VALUES (?, ?, ?, ?)',
                             (c.db, c.name, name,
                              bson.encode(spec, codec_options=OPTS)))

    def drop(self, db, name):
        self.colls.pop((db, name), None)
        for t in ('docs', 'idx', 'colls'):
            self.sql.execute('DELETE FROM %s WHERE db=? AND coll=?' % t,
                             (db, name))

    def commit(self):
        self.sql.commit()

    def ttl_pass(self):
        now = time.time()
        with self.lock:
            for c in list(self.colls.values()):
                for spec in list(c.indexes.values()):
                    if 'expireAfterSeconds' not in spec:
                        continue
                    field = next(iter(spec['key']))
                    limit = now - spec['expireAfterSeconds']
                    for k, d in list(c.docs.items()):
                        v = values_at(d, field)
                        if v and hasattr(v[0], 'timestamp') \
                                and v[0].timestamp() < limit:
                            c.delete(k)
                            self.save(c, k)
            self.commit()


# --- commands -----------------------------------------------------------

class Server:
    def __init__(self, args):
        self.args = args
        self.store = Store(args.data)
        self.cursors = {}
        self.next_cursor = 1000
        self.conn_ids = 0
        self.failpoint = None         # (mode, data, counters)
        self.stats = {}
        self.stats_lock = threading.Lock()
        self.fp_lock = threading.Lock()
        self.log = open(args.log, 'a') if args.log else None
        self.started = time.time()
        # one for the process, as mongod's; errors carry it too, so that a
        # driver can tell a state-change error of a fail point is stale
        self.topology_version = SON([('processId', ObjectId()),
                                     ('counter', Int64(0))])

    # a standalone mongod 6.0
    def hello(self, cmd, conn):
        r = SON([('helloOk', True), ('ismaster', True),
                 ('isWritablePrimary', True),
                 ('topologyVersion', self.topology_version),
                 ('maxBsonObjectSize', MAX_BSON),
                 ('maxMessageSizeBytes', 48000000),
                 ('maxWriteBatchSize', 100000),
                 ('localTime', bson.datetime.datetime.now(
                     bson.datetime.timezone.utc)),
                 ('logicalSessionTimeoutMinutes', 30),
                 ('connectionId', conn.conn_id),
                 ('minWireVersion', 0), ('maxWireVersion', 17),
                 ('readOnly', False), ('ok', 1.0)])
        if 'saslSupportedMechs' in cmd and self.args.user:
            r['saslSupportedMechs'] = ['SCRAM-SHA-1', 'SCRAM-SHA-256']
        return r

    # what an unauthenticated connection may run, as on mongod
    OPEN_CMDS = ('hello', 'ismaster', 'ping', 'saslstart', 'saslcontinue',
                 'endsessions', 'buildinfo', 'getnonce')
    # what failCommand never fails, as on mongod (and fakeStats)
    NEVER_FAIL = ('hello', 'ismaster', 'ping', 'configurefailpoint',
                  'saslstart', 'saslcontinue', 'endsessions', 'fakestats')
    # what runs outside the store lock: the awaitable hello waits, and
    # none of these touch the store
    UNLOCKED = NEVER_FAIL + ('buildinfo', 'getparameter', 'getnonce')

    def dispatch(self, db, cmd, conn):
        name = next(iter(cmd))
        lname = name.lower()
        if self.args.user and not conn.authed and lname not in self.OPEN_CMDS:
            raise CommandError(13, 'Unauthorized',
                               'command %s requires authentication' % name)
        if lname not in self.NEVER_FAIL:
            self.maybe_fail(lname, conn)     # may sleep: not under the lock
        fn = getattr(self, 'cmd_' + lname, None)
        if fn is None:
            raise CommandError(59, 'CommandNotFound',
                               "no such command: '%s'" % name)
        if lname in self.UNLOCKED:
            return fn(db, cmd, conn)
        # one command at a time on the store, and whatever it wrote is
        # committed before the reply: an acknowledged write survives a kill
        with self.store.lock:
            try:
                return fn(db, cmd, conn)
            finally:
                self.store.commit()

    # mongod's names of the codes tests usually ask failCommand for
    CODE_NAMES = {2: 'BadValue', 6: 'HostUnreachable', 7: 'HostNotFound',
                  8: 'UnknownError', 11: 'UserNotFound', 13: 'Unauthorized',
                  18: 'AuthenticationFailed', 50: 'MaxTimeMSExpired',
                  89: 'NetworkTimeout', 91: 'ShutdownInProgress',
                  112: 'WriteConflict', 189: 'PrimarySteppedDown',
                  262: 'ExceededTimeLimit', 9001: 'SocketException',
                  10107: 'NotWritablePrimary', 11000: 'DuplicateKey',
                  11600: 'InterruptedAtShutdown',
                  11602: 'InterruptedDueToReplStateChange',
                  13435: 'NotPrimaryNoSecondaryOk',
                  13436: 'NotPrimaryOrSecondary'}

    def maybe_fail(self, name, conn):
        with self.fp_lock:
            fp = self.failpoint
            if fp is None:
                return
            mode, data = fp['mode'], fp['data']
            if name not in [c.lower() for c in data.get('failCommands', [])]:
                return
            if 'appName' in data and data['appName'] != conn.app_name:
                return
            if isinstance(mode, dict):
                if fp.get('skip', 0) > 0:
                    fp['skip'] -= 1
                    return
                if 'times' in mode:
                    if fp['times'] <= 0:
                        return
                    fp['times'] -= 1
        if data.get('blockConnection'):
            time.sleep(data.get('blockTimeMS', 0) / 1000.0)
        if data.get('closeConnection'):
            raise ConnectionAbortedError('failCommand closeConnection')
        if 'writeConcernError' in data:
            conn.wce = data['writeConcernError']
            return
        if 'errorCode' in data:
            code = data['errorCode']
            e = CommandError(code, self.CODE_NAMES.get(code, 'Location%d' % code),
                             data.get('errmsg', 'Failing command via '
                                      "'failCommand' failpoint"))
            e.labels = data.get('errorLabels')
            raise e

    def cmd_hello(self, db, cmd, conn):
        app = ((cmd.get('client') or {}).get('application') or {}).get('name')
        if app:
            conn.app_name = app           # failCommand's appName filter
        # the streaming monitor's awaitable hello: a server answers when
        # its topology changes or maxAwaitTimeMS passes, never at once
        # (a standalone's never changes), or the monitor spins
        if 'topologyVersion' in cmd and 'maxAwaitTimeMS' in cmd:
            time.sleep(min(int(cmd['maxAwaitTimeMS']), 10000) / 1000.0)
        return self.hello(cmd, conn)

    cmd_ismaster = cmd_hello

    def cmd_ping(self, db, cmd, conn):
        return {'ok': 1.0}

    def cmd_buildinfo(self, db, cmd, conn):
        return {'version': '6.0.0', 'versionArray': [6, 0, 0, 0],
                'maxBsonObjectSize': MAX_BSON, 'ok': 1.0}

    def cmd_getparameter(self, db, cmd, conn):
        return {'ok': 1.0}

    def cmd_endsessions(self, db, cmd, conn):
        return {'ok': 1.0}

    def cmd_killcursors(self, db, cmd, conn):
        ids = cmd.get('cursors', [])
        for i in ids:
            self.cursors.pop(int(i), None)
        return {'cursorsKilled': ids, 'cursorsNotFound': [],
                'cursorsAlive': [], 'cursorsUnknown': [], 'ok': 1.0}

    def cmd_configurefailpoint(self, db, cmd, conn):
        if cmd['configureFailPoint'] != 'failCommand':
            raise bad('unknown fail point %s' % cmd['configureFailPoint'])
        mode = cmd.get('mode')
        if mode not in ('off', 'alwaysOn') and not (
                isinstance(mode, dict) and set(mode) <= {'times', 'skip'}):
            raise bad('mode must be "off", "alwaysOn", {times: N} or '
                      '{skip: N}')
        with self.fp_lock:
            if mode == 'off':
                self.failpoint = None
            else:
                fp = {'mode': mode, 'data': cmd.get('data', {})}
                if isinstance(mode, dict):
                    fp['times'] = mode.get('times', 1 << 30)
                    fp['skip'] = mode.get('skip', 0)
                self.failpoint = fp
        return {'count': 0, 'ok': 1.0}

    def cmd_fakestats(self, db, cmd, conn):
        with self.stats_lock:
            out = SON()
            for k, (n, us) in sorted(self.stats.items()):
                out[k] = SON([('count', n), ('totalMicros', Int64(int(us))),
                              ('avgMicros', us / n if n else 0.0)])
            if cmd.get('reset'):
                self.stats = {}
        return {'commands': out, 'ok': 1.0}

    # --- SCRAM-SHA-256 ---

    # mechanism: hash, salt length (mongod's, which libmongoc checks);
    # 4096 iterations, the least drivers accept, keeps a handshake quick
    SCRAM = {'SCRAM-SHA-256': ('sha256', 28), 'SCRAM-SHA-1': ('sha1', 16)}
    SCRAM_ITERATIONS = 4096

    def scram_password(self, mech):
        if mech == 'SCRAM-SHA-1':
            return hashlib.md5(('%s:mongo:%s' % (
                self.args.user, self.args.password)).encode()).hexdigest()
        return self.args.password

    def cmd_saslstart(self, db, cmd, conn):
        mech = cmd.get('mechanism')
        if mech not in self.SCRAM or not self.args.user:
            raise CommandError(334, 'MechanismUnavailable',
                               'Received authentication for mechanism %s '
                               'which is not enabled' % cmd.get('mechanism'))
        first = bytes(cmd['payload']).decode()
        bare = first.split(',', 2)[2]
        attrs = dict(a.split('=', 1) for a in bare.split(','))
        if attrs.get('n') != self.args.user:
            raise CommandError(18, 'AuthenticationFailed',
                               'Authentication failed.')
        salt = os.urandom(self.SCRAM[mech][1])
        nonce = attrs['r'] + base64.b64encode(os.urandom(18)).decode()
        server_first = 'r=%s,s=%s,i=%d' % (nonce, base64.b64encode(salt).decode(),
                                          self.SCRAM_ITERATIONS)
        conn.scram = {'bare': bare, 'server_first': server_first,
                      'salt': salt, 'nonce': nonce, 'mech': mech,
                      'skip': cmd.get('options', {}).get('skipEmptyExchange')}
        return SON([('conversationId', 1), ('done', False),
                    ('payload', bson.Binary(server_first.encode())),
                    ('ok', 1.0)])

    def cmd_saslcontinue(self, db, cmd, conn):
        st = conn.scram
        if st is None:
            raise CommandError(17, 'ProtocolError', 'No SASL session state')
        if st.get('verified'):
            conn.scram = None
            conn.authed = True
            return SON([('conversationId', 1), ('done', True),
                        ('payload', bson.Binary(b'')), ('ok', 1.0)])
        final = bytes(cmd['payload']).decode()
        without_proof, proof = final.rsplit(',p=', 1)
        attrs = dict(a.split('=', 1) for a in without_proof.split(','))
        h = self.SCRAM[st['mech']][0]
        salted = hashlib.pbkdf2_hmac(
            h, self.scram_password(st['mech']).encode(), st['salt'],
            self.SCRAM_ITERATIONS)
        client_key = hmac.new(salted, b'Client Key', h).digest()
        stored = hashlib.new(h, client_key).digest()
        auth_msg = ','.join((st['bare'], st['server_first'],
                             without_proof)).encode()
        sig = hmac.new(stored, auth_msg, h).digest()
        got = bytes(a ^ b for a, b in zip(base64.b64decode(proof), sig))
        if attrs.get('r') != st['nonce'] \
                or not hmac.compare_digest(hashlib.new(h, got).digest(),
                                           stored):
            conn.scram = None
            raise CommandError(18, 'AuthenticationFailed',
                               'Authentication failed.')
        server_key = hmac.new(salted, b'Server Key', h).digest()
        v = base64.b64encode(hmac.new(server_key, auth_msg,
                                      h).digest()).decode()
        if st['skip']:
            conn.scram = None
            conn.authed = True
            done = True
        else:
            st['verified'] = True
            done = False
        return SON([('conversationId', 1), ('done', done),
                    ('payload', bson.Binary(('v=' + v).encode())),
                    ('ok', 1.0)])

    # --- collections and indexes ---

    def cmd_listdatabases(self, db, cmd, conn):
        dbs = sorted({d for d, c in self.store.colls})
        return {'databases': [{'name': d, 'sizeOnDisk': 0, 'empty': False}
                              for d in dbs], 'ok': 1.0}

    def cmd_listcollections(self, db, cmd, conn):
        names = [c for d, c in self.store.colls if d == db]
        batch = [SON([('name', n), ('type', 'collection'),
                      ('options', {}), ('info', {'readOnly': False})])
                 for n in sorted(names)]
        flt = cmd.get('filter') or {}
        batch = [b for b in batch if match(b, flt)]
        return self.cursor_reply(db + '.$cmd.listCollections', batch, cmd)

    def cmd_create(self, db, cmd, conn):
        if self.store.coll(db, cmd['create'], create=False):
            raise CommandError(48, 'NamespaceExists',
                               'Collection %s.%s already exists.'
                               % (db, cmd['create']))
        self.store.coll(db, cmd['create'])
        return {'ok': 1.0}

    def cmd_drop(self, db, cmd, conn):
        if not self.store.coll(db, cmd['drop'], create=False):
            raise CommandError(26, 'NamespaceNotFound', 'ns not found')
        self.store.drop(db, cmd['drop'])
        return {'ns': '%s.%s' % (db, cmd['drop']), 'ok': 1.0}

    def cmd_dropdatabase(self, db, cmd, conn):
        for d, c in list(self.store.colls):
            if d == db:
                self.store.drop(d, c)
        return {'dropped': db, 'ok': 1.0}

    # what an index's identity leaves out (mongod ignores "background")
    INDEX_NOT_OPTIONS = ('key', 'name', 'v', 'background')

    def cmd_createindexes(self, db, cmd, conn):
        created = self.store.coll(db, cmd['createIndexes'],
                                  create=False) is None
        c = self.store.coll(db, cmd['createIndexes'])
        before = len(c.indexes)
        new = []
        for spec in cmd['indexes']:
            spec = SON((k, v) for k, v in spec.items() if k != 'background')
            name = spec['name']
            opts = {k: v for k, v in spec.items()
                    if k not in self.INDEX_NOT_OPTIONS}
            for oname, o in c.indexes.items():
                oopts = {k: v for k, v in o.items()
                         if k not in self.INDEX_NOT_OPTIONS}
                same_key = list(o['key'].items()) == list(spec['key'].items())
                if oname == name and not same_key:
                    raise CommandError(86, 'IndexKeySpecsConflict',
                                       'An existing index has the same name '
                                       'as the requested index but different '
                                       'key: %s' % name)
                if same_key and (oname != name or oopts != opts):
                    raise CommandError(85, 'IndexOptionsConflict',
                                       'An equivalent index already exists '
                                       'with the same name but different '
                                       'options. Requested index: %s, '
                                       'existing index: %s'
                                       % (json_dumps(spec), json_dumps(o)))
            if name not in c.indexes:
                new.append(SON([('v', 2)] + list(spec.items())))
        for spec in new:
            c.indexes[spec['name']] = spec
        if new:
            c.reindex()
            try:
                for k, d in c.docs.items():
                    c.unique_check(d, k)
            except CommandError:
                for spec in new:
                    del c.indexes[spec['name']]
                c.reindex()
                raise
            self.store.save_indexes(c)
        r = SON([('numIndexesBefore', before), ('numIndexesAfter', len(c.indexes)),
                 ('createdCollectionAutomatically', created)])
        if not new:
            r['note'] = 'all indexes already exist'
        r['ok'] = 1.0
        return r

    def cmd_listindexes(self, db, cmd, conn):
        c = self.store.coll(db, cmd['listIndexes'], create=False)
        if c is None:
            raise CommandError(26, 'NamespaceNotFound',
                               'ns does not exist: %s.%s'
                               % (db, cmd['listIndexes']))
        return self.cursor_reply('%s.%s' % (db, c.name),
                                 list(c.indexes.values()), cmd)

    def cmd_dropindexes(self, db, cmd, conn):
        c = self.store.coll(db, cmd['dropIndexes'], create=False)
        if c is None:
            raise CommandError(26, 'NamespaceNotFound', 'ns not found')
        which = cmd['index']
        if which == '*':
            names = [n for n in c.indexes if n != '_id_']
        else:
            names = [n for n, s in c.indexes.items()
                     if n == which or s['key'] == which]
            if not names:
                raise CommandError(27, 'IndexNotFound',
                                   'index not found with name [%s]' % which)
        for n in names:
            del c.indexes[n]
        c.reindex()
        self.store.save_indexes(c)
        return {'nIndexesWas': len(c.indexes) + len(names), 'ok': 1.0}

    def cmd_collmod(self, db, cmd, conn):
        c = self.store.coll(db, cmd['collMod'], create=False)
        if c is None:
            raise CommandError(26, 'NamespaceNotFound', 'ns does not exist')
        r = SON()
        ix = cmd.get('index')
        if ix:
            found = [s for n, s in c.indexes.items()
                     if n == ix.get('name') or s['key'] == ix.get('keyPattern')]
            if not found:
                raise CommandError(27, 'IndexNotFound', 'cannot find index')
            s = found[0]
            if 'expireAfterSeconds' in ix:
                r['expireAfterSeconds_old'] = s.get('expireAfterSeconds')
                s['expireAfterSeconds'] = ix['expireAfterSeconds']
                r['expireAfterSeconds_new'] = ix['expireAfterSeconds']
            self.store.save_indexes(c)
        r['ok'] = 1.0
        return r

    # --- reads ---

    def cursor_reply(self, ns, docs, cmd, first_key='firstBatch'):
        size = (cmd.get('cursor') or {}).get('batchSize', cmd.get('batchSize'))
        size = 101 if size is None else int(size)    # 0: an empty first batch
        if cmd.get('singleBatch'):
            size = len(docs)
        first, rest = docs[:size], docs[size:]
        cid = 0
        if rest:
            self.next_cursor += 1
            cid = self.next_cursor
            self.cursors[cid] = (ns, rest)
        return SON([('cursor', SON([('id', Int64(cid)), ('ns', ns),
                                    (first_key, first)])), ('ok', 1.0)])

    def query(self, db, name, flt, sort=None, skip=0, limit=0, proj=None):
        c = self.store.coll(db, name, create=False)
        docs = c.find(flt) if c else []
        if sort:
            docs = sort_docs(docs, sort)
        docs = docs[skip:]
        if limit:
            docs = docs[:abs(limit)]
        return [project(d, proj) for d in docs]

    def cmd_find(self, db, cmd, conn):
        with self.store.lock:
            docs = self.query(db, cmd['find'], cmd.get('filter') or {},
                              cmd.get('sort'), int(cmd.get('skip', 0)),
                              int(cmd.get('limit', 0)), cmd.get('projection'))
        if int(cmd.get('limit', 0)) < 0:
            cmd = dict(cmd, singleBatch=True)
        return self.cursor_reply('%s.%s' % (db, cmd['find']), docs, cmd)

    def cmd_getmore(self, db, cmd, conn):
        cid = int(cmd['getMore'])
        if cid not in self.cursors:
            raise CommandError(43, 'CursorNotFound',
                               'cursor id %d not found' % cid)
        ns, docs = self.cursors.pop(cid)
        size = int(cmd.get('batchSize') or 0)
        if size <= 0:       # no batchSize: what fits in 16 MB, as mongod
            size, total = 0, 0
            while size < len(docs) and total < MAX_BSON - 1024 * 1024:
                total += len(bson.encode(docs[size], codec_options=OPTS))
                size += 1
        batch, rest = docs[:size], docs[size:]
        if rest:
            self.cursors[cid] = (ns, rest)
        return SON([('cursor', SON([('id', Int64(cid if rest else 0)),
                                    ('ns', ns), ('nextBatch', batch)])),
                    ('ok', 1.0)])

    def cmd_count(self, db, cmd, conn):
        with self.store.lock:
            n = len(self.query(db, cmd['count'], cmd.get('query') or {},
                               None, int(cmd.get('skip', 0)),
                               int(cmd.get('limit', 0))))
        return {'n': n, 'ok': 1.0}

    def cmd_distinct(self, db, cmd, conn):
        with self.store.lock:
            docs = self.query(db, cmd['distinct'], cmd.get('query') or {})
        out = []
        for d in docs:
            for v in expand(values_at(d, cmd['key'])):
                if not isinstance(v, list) and not any(cmp(v, o) == 0 for o in out):
                    out.append(v)
        return {'values': out, 'ok': 1.0}

    def cmd_aggregate(self, db, cmd, conn):
        pipeline = list(cmd['pipeline'])
        # a leading $match uses the indexes, as mongod's planner does
        flt = {}
        if pipeline and '$match' in pipeline[0]:
            flt = pipeline.pop(0)['$match']
        with self.store.lock:
            docs = self.query(db, cmd['aggregate'], flt)
        for stage in pipeline:
            op, arg = next(iter(stage.items()))
            if op == '$match':
                docs = [d for d in docs if match(d, arg)]
            elif op == '$sort':
                docs = sort_docs(docs, arg)
            elif op == '$skip':
                docs = docs[int(arg):]
            elif op == '$limit':
                docs = docs[:int(arg)]
            elif op == '$project':
                docs = [project(d, arg) for d in docs]
            elif op == '$count':
                docs = [SON([(arg, len(docs))])] if docs else []
            elif op == '$group':
                docs = self.group(docs, arg)
            else:
                raise bad('Unrecognized pipeline stage name: %s' % op,
                          40324, 'Location40324')
        return self.cursor_reply('%s.%s' % (db, cmd['aggregate']), docs, cmd)

    def group(self, docs, spec):
        groups = []
        for d in docs:
            key = spec['_id']
            if isinstance(key, str) and key.startswith('$'):
                key = (values_at(d, key[1:]) or [None])[0]
            for g in groups:
                if cmp(g['_id'], key) == 0:
                    break
            else:
                g = SON([('_id', key)])
                groups.append(g)
            for f, acc in spec.items():
                if f == '_id':
                    continue
                (aop, aarg), = acc.items()
                if aop != '$sum':
                    raise bad('unsupported accumulator %s' % aop)
                v = aarg if not isinstance(aarg, str) \
                    else (values_at(d, aarg[1:]) or [0])[0]
                g[f] = g.get(f, 0) + v
        return groups

    # --- writes ---

    def write_reply(self, r, errors, conn):
        r = SON(r)
        if errors:
            r['writeErrors'] = [SON([('index', i), ('code', e.code)]
                                    + list(e.extra.items())
                                    + [('errmsg', e.msg)])
                                for i, e in errors]
        r['ok'] = 1.0
        return r

    def cmd_insert(self, db, cmd, conn):
        ordered = cmd.get('ordered', True)
        errors, n = [], 0
        with self.store.lock:
            c = self.store.coll(db, cmd['insert'])
            for i, d in enumerate(cmd.get('documents', [])):
                try:
                    d = SON(d)
                    check_names(d)
                    if '_id' not in d:
                        d = SON([('_id', ObjectId())] + list(d.items()))
                    k = c.put(d)
                    self.store.save(c, k)
                    n += 1
                except CommandError as e:
                    errors.append((i, e))
                    if ordered:
                        break
            self.store.commit()
        return self.write_reply({'n': n}, errors, conn)

    def cmd_update(self, db, cmd, conn):
        ordered = cmd.get('ordered', True)
        errors, n, modified, upserted = [], 0, 0, []
        with self.store.lock:
            c = self.store.coll(db, cmd['update'])
            for i, u in enumerate(cmd.get('updates', [])):
                try:
                    q, spec = u.get('q') or {}, u['u']
                    found = c.find(q)
                    if not u.get('multi'):
                        found = found[:1]
                    if not found and u.get('upsert'):
                        base = upsert_base(q)
                        new = apply_update(base, spec, True)
                        if '_id' not in new:
                            new = SON([('_id', base.get('_id', ObjectId()))]
                                      + list(new.items()))
                        k = c.put(new)
                        self.store.save(c, k)
                        upserted.append(SON([('index', i), ('_id', new['_id'])]))
                        n += 1
                        continue
                    for d in found:
                        new = apply_update(d, spec, False)
                        n += 1
                        if bson.encode(new, codec_options=OPTS) \
                                != bson.encode(d, codec_options=OPTS):
                            k = c.put(new, replace_key=hkey(d['_id']))
                            self.store.save(c, k)
                            modified += 1
                except CommandError as e:
                    errors.append((i, e))
                    if ordered:
                        break
            self.store.commit()
        r = SON([('n', n), ('nModified', modified)])
        if upserted:
            r['upserted'] = upserted
        return self.write_reply(r, errors, conn)

    def cmd_delete(self, db, cmd, conn):
        ordered = cmd.get('ordered', True)
        errors, n = [], 0
        with self.store.lock:
            c = self.store.coll(db, cmd['delete'])
            for i, d in enumerate(cmd.get('deletes', [])):
                try:
                    found = c.find(d.get('q') or {})
                except CommandError as e:      # a bad filter: a write error
                    errors.append((i, e))
                    if ordered:
                        break
                    continue
                if d.get('limit', 0) == 1:
                    found = found[:1]
                for doc in found:
                    k = hkey(doc['_id'])
                    c.delete(k)
                    self.store.save(c, k)
                    n += 1
            self.store.commit()
        return self.write_reply({'n': n}, errors, conn)

    def cmd_findandmodify(self, db, cmd, conn):
        with self.store.lock:
            c = self.store.coll(db, cmd['findAndModify'])
            found = c.find(cmd.get('query') or {})
            if cmd.get('sort'):
                found = sort_docs(found, cmd['sort'])
            old = found[0] if found else None
            value, le = old, SON([('n', 0), ('updatedExisting', False)])
            if cmd.get('remove'):
                if old is not None:
                    k = hkey(old['_id'])
                    c.delete(k)
                    self.store.save(c, k)
                    le['n'] = 1
            elif old is not None:
                new = apply_update(old, cmd['update'], False)
                k = c.put(new, replace_key=hkey(old['_id']))
                self.store.save(c, k)
                le = SON([('n', 1), ('updatedExisting', True)])
                value = new if cmd.get('new') else old
            elif cmd.get('upsert'):
                base = upsert_base(cmd.get('query'))
                new = apply_update(base, cmd['update'], True)
                if '_id' not in new:
                    new = SON([('_id', ObjectId())] + list(new.items()))
                k = c.put(new)
                self.store.save(c, k)
                le = SON([('n', 1), ('updatedExisting', False),
                          ('upserted', new['_id'])])
                value = new if cmd.get('new') else None
            self.store.commit()
        if value is not None and cmd.get('fields'):
            value = project(value, cmd['fields'])
        return SON([('lastErrorObject', le), ('value', value), ('ok', 1.0)])


# --- the wire -----------------------------------------------------------

class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        srv = self.server.app
        with srv.stats_lock:
            srv.conn_ids += 1
            self.conn_id = srv.conn_ids
        self.authed = False
        self.scram = None
        self.wce = None             # a fail point's writeConcernError
        self.app_name = None        # the handshake's appname
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read(self, n):
        buf = b''
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise ConnectionResetError()
            buf += chunk
        return buf

    def handle(self):
        app = self.server.app
        try:
            while True:
                head = self.read(16)
                length, req_id, _, opcode = struct.unpack('<iiii', head)
                body = self.read(length - 16)
                if opcode == OP_MSG:
                    reply = self.op_msg(app, req_id, body)
                elif opcode == OP_QUERY:
                    reply = self.op_query(app, req_id, body)
                else:
                    return
                if reply is not None:
                    self.request.sendall(reply)
        except (ConnectionError, OSError):
            return

    def run(self, app, db, cmd):
        name = next(iter(cmd)) if cmd else '?'
        t0 = time.perf_counter()
        self.wce = None
        try:
            r = app.dispatch(db, cmd, self)
            if self.wce:        # the command was applied, and this added
                r = SON(r)
                ok = r.pop('ok', 1.0)
                r['writeConcernError'] = self.wce
                r['ok'] = ok
        except CommandError as e:
            r = SON([('ok', 0.0), ('errmsg', e.msg), ('code', e.code),
                     ('codeName', e.name)] + list(e.extra.items()))
            if e.labels:
                r['errorLabels'] = e.labels
            r['topologyVersion'] = app.topology_version
        except ConnectionAbortedError:
            raise
        except Exception as e:          # a bug here, not a crash of it
            r = SON([('ok', 0.0), ('errmsg', 'internal: %r' % e),
                     ('code', 1), ('codeName', 'InternalError')])
        us = (time.perf_counter() - t0) * 1e6
        with app.stats_lock:
            n, tot = app.stats.get(name, (0, 0.0))
            app.stats[name] = (n + 1, tot + us)
        if app.log:
            coll = cmd.get(name) if isinstance(cmd.get(name), str) else ''
            app.log.write('%s %s.%s %.2fms %s\n' % (
                name, db, coll, us / 1000,
                'ok' if r.get('ok') else 'code=%s' % r.get('code')))
            app.log.flush()
        return r

    def op_msg(self, app, req_id, body):
        flags = struct.unpack('<I', body[:4])[0]
        end = len(body) - (4 if flags & 1 else 0)
        pos, cmd = 4, None
        seqs = {}
        while pos < end:
            kind = body[pos]
            pos += 1
            if kind == 0:
                size = struct.unpack('<i', body[pos:pos + 4])[0]
                cmd = bson.decode(body[pos:pos + size], OPTS)
                pos += size
            else:
                size = struct.unpack('<i', body[pos:pos + 4])[0]
                sec = body[pos + 4:pos + size]
                ident, rest = sec.split(b'\0', 1)
                seqs[ident.decode()] = bson.decode_all(rest, OPTS)
                pos += size
        for k, v in seqs.items():
            cmd[k] = v
        db = cmd.pop('$db', 'admin')
        try:
            r = self.run(app, db, cmd)
        except ConnectionAbortedError:
            self.request.close()
            raise ConnectionResetError()
        if flags & 2:           # moreToCome: w:0, no reply
            return None
        doc = bson.encode(r, codec_options=OPTS)
        payload = struct.pack('<I', 0) + b'\0' + doc
        return struct.pack('<iiii', 16 + len(payload),
                           (req_id + 1) & 0x7fffffff, req_id, OP_MSG) + payload

    def op_query(self, app, req_id, body):
        pos = 4
        end = body.index(b'\0', pos)
        ns = body[pos:end].decode()
        pos = end + 1 + 8
        size = struct.unpack('<i', body[pos:pos + 4])[0]
        q = bson.decode(body[pos:pos + size], OPTS)
        if '$query' in q:
            q = q['$query']
        r = self.run(app, ns.split('.')[0], q)
        doc = bson.encode(r, codec_options=OPTS)
        payload = struct.pack('<iqii', 8, 0, 0, 1) + doc
        return struct.pack('<iiii', 16 + len(payload), req_id + 1,
                           req_id, OP_REPLY) + payload


class TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def ttl_loop(app, interval):
    while True:
        time.sleep(interval)
        try:
            app.store.ttl_pass()
        except Exception as e:          # keep the monitor alive
            sys.stderr.write('ttl: %r\n' % e)


# --- client mode: one command, for tests and benchmarks ----------------

class Client:
    def __init__(self, hostport):
        host, port = hostport.rsplit(':', 1)
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.req = 0

    def command(self, db, cmd):
        cmd = SON(cmd)
        cmd['$db'] = db
        self.req += 1
        payload = struct.pack('<I', 0) + b'\0' + bson.encode(cmd, codec_options=OPTS)
        self.sock.sendall(struct.pack('<iiii', 16 + len(payload), self.req, 0,
                                      OP_MSG) + payload)
        head = self._read(16)
        length = struct.unpack('<i', head[:4])[0]
        body = self._read(length - 16)
        return bson.decode(body[5:], OPTS)

    def _read(self, n):
        buf = b''
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError('closed')
            buf += chunk
        return buf

    def auth(self, user, password):
        """SCRAM-SHA-256; None when authenticated, else the failed reply."""
        nonce = base64.b64encode(os.urandom(18)).decode()
        bare = 'n=%s,r=%s' % (user, nonce)
        r = self.command('admin', SON([('saslStart', 1),
                                       ('mechanism', 'SCRAM-SHA-256'),
                                       ('payload', bson.Binary(('n,,' + bare).encode())),
                                       ('options', {'skipEmptyExchange': True})]))
        if not r.get('ok'):
            return r
        server_first = bytes(r['payload']).decode()
        a = dict(x.split('=', 1) for x in server_first.split(','))
        salted = hashlib.pbkdf2_hmac('sha256', password.encode(),
                                     base64.b64decode(a['s']), int(a['i']))
        ck = hmac.new(salted, b'Client Key', 'sha256').digest()
        without = 'c=biws,r=' + a['r']
        msg = ','.join((bare, server_first, without)).encode()
        sig = hmac.new(hashlib.sha256(ck).digest(), msg, 'sha256').digest()
        proof = base64.b64encode(bytes(x ^ y for x, y in zip(ck, sig))).decode()
        r = self.command('admin', SON([('saslContinue', 1), ('conversationId', 1),
                                       ('payload', bson.Binary(
                                           (without + ',p=' + proof).encode()))]))
        return None if r.get('ok') else r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--data')
    ap.add_argument('--port-file')
    ap.add_argument('--user')
    ap.add_argument('--password')
    ap.add_argument('--ttl-interval', type=float, default=1.0)
    ap.add_argument('--log')
    ap.add_argument('--client')
    ap.add_argument('--db', default='admin')
    ap.add_argument('--command')
    args = ap.parse_args()

    if args.client:
        cmd = json_loads(args.command,
                         json_options=JSONOptions(document_class=SON))
        try:
            c = Client(args.client)
            r = args.user and c.auth(args.user, args.password or '')
            r = r or c.command(args.db, cmd)
        except (ConnectionError, OSError) as e:    # closeConnection, say
            sys.stderr.write('fake_mongo.py --client: %r\n' % e)
            return 2
        print(json_dumps(r))
        return 0 if r.get('ok') else 1

    if not args.data:
        ap.error('--data is required')
    os.makedirs(args.data, exist_ok=True)
    app = Server(args)
    srv = TCPServer(('127.0.0.1', args.port), Handler)
    srv.app = app
    port = srv.server_address[1]
    threading.Thread(target=ttl_loop, args=(app, args.ttl_interval),
                     daemon=True).start()

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.port_file:
        with open(args.port_file + '.tmp', 'w') as f:
            f.write('%d\n' % port)
        os.rename(args.port_file + '.tmp', args.port_file)
    print('listening on %d' % port, flush=True)
    srv.serve_forever()
    with app.store.lock:
        app.store.commit()
    return 0


if __name__ == '__main__':
    sys.exit(main())

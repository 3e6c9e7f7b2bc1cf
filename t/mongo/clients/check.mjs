// Faithfulness check of t/mongo/fake_mongo.py: the official MongoDB Node
// driver runs what the module's store does (and more) against it and
// compares every answer with what a real mongod gives.  One line per
// check ("ok - ..." or "not ok - ..."); exit status 1 when any failed.
//
//   node check.mjs mongodb://127.0.0.1:PORT/ [mongodb://user:pass@.../?authSource=admin]

import { MongoClient, ObjectId, Long, Double, MongoServerError,
         MongoBulkWriteError, MongoWriteConcernError } from 'mongodb';

const [uri, authUri] = process.argv.slice(2);
let failed = 0;

function check(cond, name, got) {
    if (cond) {
        console.log(`ok - ${name}`);
    } else {
        failed++;
        console.log(`not ok - ${name}` + (got === undefined ? ''
                    : ` (got ${JSON.stringify(got)})`));
    }
}

async function rejects(promise, code, name) {
    try {
        await promise;
        check(false, name, 'no error');
    } catch (e) {
        check(e.code === code, name, e.code);
        return e;
    }
}

// no retries: a retried command would hide the faults checked below
const opts = { serverSelectionTimeoutMS: 3000, retryWrites: false,
               retryReads: false };
const client = new MongoClient(uri, opts);
await client.connect();
const db = client.db('checkdb');

check((await db.command({ ping: 1 })).ok === 1, 'ping');
const hello = await db.admin().command({ hello: 1 });
check(hello.isWritablePrimary && hello.maxWireVersion >= 8,
      'hello: a writable primary the driver supports');

// inserts and finds
const c = db.collection('things');
await c.deleteMany({});
const one = await c.insertOne({ name: 'a', n: 1, tags: ['x', 'y'] });
check(one.insertedId instanceof ObjectId, 'insertOne gives an ObjectId');
const many = await c.insertMany(Array.from({ length: 250 }, (_, i) =>
    ({ name: `m${String(i).padStart(3, '0')}`, n: i, even: i % 2 === 0 })));
check(many.insertedCount === 250, 'insertMany', many.insertedCount);

check((await c.findOne({ _id: one.insertedId })).name === 'a',
      'findOne by _id');
check((await c.findOne({ tags: 'y' }))?.name === 'a',
      'equality matches an array element');
const page = await c.find({ even: true }).sort({ n: -1 }).skip(2).limit(3)
    .project({ _id: 0, n: 1 }).toArray();
check(JSON.stringify(page) === '[{"n":244},{"n":242},{"n":240}]',
      'find: filter, sort, skip, limit, projection', page);
let seen = 0;
for await (const d of c.find({ name: { $regex: '^m' } }).batchSize(50)) {
    seen += d ? 1 : 0;
}
check(seen === 250, 'a cursor of 250 in batches of 50 (getMore)', seen);
check(await c.countDocuments({ n: { $gte: 100, $lt: 200 } }) === 100,
      'countDocuments with a range');
check(await c.countDocuments({ n: { $in: [1, 2, 3] }, even: false }) === 2,
      'countDocuments: $in and equality (1 and 3; "a" has no "even")');
check(await c.estimatedDocumentCount() === 251, 'estimatedDocumentCount');
check((await c.distinct('even', { n: { $lt: 4 } })).length === 2,
      'distinct');
const agg = await c.aggregate([{ $match: { even: true } },
                               { $group: { _id: 1, n: { $sum: 1 } } }])
    .toArray();
check(agg[0]?.n === 125, 'aggregate $match $group $sum', agg);

// updates
const up = await c.updateOne({ name: 'a' }, { $set: { 'sub.x': 5 } });
check(up.matchedCount === 1 && up.modifiedCount === 1, 'updateOne $set');
check((await c.findOne({ 'sub.x': 5 }))?.name === 'a', 'a dotted path');
const ups = await c.updateOne({ name: 'new' }, { $set: { n: -1 } },
                              { upsert: true });
check(ups.upsertedId instanceof ObjectId, 'upsert gives upsertedId');
const rep = await c.replaceOne({ name: 'new' }, { name: 'new', n: -2 });
check(rep.modifiedCount === 1, 'replaceOne');
const um = await c.updateMany({ even: true }, { $set: { flag: 1 } });
check(um.modifiedCount === 125, 'updateMany', um.modifiedCount);
const fam = await c.findOneAndUpdate({ name: 'new' }, { $inc: { n: 10 } },
                                     { returnDocument: 'after' });
check(fam?.n === 8, 'findOneAndUpdate returns the new document', fam);
check((await c.deleteOne({ name: 'new' })).deletedCount === 1, 'deleteOne');
check((await c.deleteMany({ even: false })).deletedCount === 125,
      'deleteMany');

// unique indexes and bulk writes
const u = db.collection('uniq');
await u.deleteMany({});
await u.dropIndexes().catch(() => {});
const names = await u.createIndexes([
    { key: { uid: 1 }, name: 'uid_unique', unique: true },
    { key: { region: 1, uid: 1 }, name: 'region_uid' }]);
check(names.join() === 'uid_unique,region_uid', 'createIndexes', names);
await u.createIndexes([{ key: { uid: 1 }, name: 'uid_unique',
                         unique: true }]);
check(true, 'createIndexes again: idempotent');
await u.insertOne({ uid: 'a' });
const dupe = await rejects(u.insertOne({ uid: 'a' }), 11000,
                           'a duplicate key: 11000');
check(dupe?.keyPattern?.uid === 1 && dupe?.keyValue?.uid === 'a',
      'with keyPattern and keyValue', dupe?.errorResponse);
const u2 = db.collection('uniq2');
await u2.drop().catch(() => {});
await u2.insertMany([{ v: 1, w: 1 }, { w: 1 }, { w: 2 }]);
await rejects(u2.createIndex({ w: 1 }, { name: 'w_unique', unique: true }),
              11000, 'a unique index over duplicates: 11000');
await rejects(u2.createIndex({ v: 1 }, { name: 'v_unique', unique: true }),
              11000, 'a unique index over two without the field: 11000');
check((await u2.listIndexes().toArray()).length === 1,
      'and neither index is left');
try {
    await u.bulkWrite([{ insertOne: { document: { uid: 'b' } } },
                       { insertOne: { document: { uid: 'a' } } },
                       { insertOne: { document: { uid: 'c' } } }],
                      { ordered: false });
    check(false, 'unordered bulk with a duplicate fails');
} catch (e) {
    check(e instanceof MongoBulkWriteError && e.result.insertedCount === 2
          && e.writeErrors[0].code === 11000 && e.writeErrors[0].index === 1,
          'unordered bulk: the others applied, the duplicate reported',
          e.message);
}
try {
    await u.bulkWrite([{ insertOne: { document: { uid: 'd' } } },
                       { insertOne: { document: { uid: 'a' } } },
                       { insertOne: { document: { uid: 'e' } } }],
                      { ordered: true });
    check(false, 'ordered bulk with a duplicate fails');
} catch (e) {
    check(e.result.insertedCount === 1, 'ordered bulk stops at the error',
          e.result.insertedCount);
}
const bw = await u.bulkWrite([
    { replaceOne: { filter: { uid: 'z' }, replacement: { uid: 'z', v: 1 },
                    upsert: true } },
    { replaceOne: { filter: { uid: 'a' }, replacement: { uid: 'a', v: 2 },
                    upsert: true } }], { ordered: false });
check(bw.upsertedCount === 1 && bw.modifiedCount === 1,
      'bulk replace-upserts: one inserted, one replaced', bw);

// TTL indexes and collMod
const t = db.collection('ttl');
await t.drop().catch(() => {});
await t.createIndex({ createdAt: 1 },
                    { name: 'createdAt_ttl', expireAfterSeconds: 3600 });
await rejects(t.createIndex({ createdAt: 1 },
                            { name: 'createdAt_ttl', expireAfterSeconds: 60 }),
              85, 'another expireAfterSeconds: 85 IndexOptionsConflict');
const mod = await db.command({ collMod: 'ttl', index: { name: 'createdAt_ttl',
                                                        expireAfterSeconds: 1 } });
check(mod.expireAfterSeconds_old === 3600 && mod.expireAfterSeconds_new === 1,
      'collMod changes expireAfterSeconds', mod);
const again = await db.command({ createIndexes: 'ttl', indexes: [
    { key: { createdAt: 1 }, name: 'createdAt_ttl', expireAfterSeconds: 1 }] });
check(again.numIndexesBefore === again.numIndexesAfter
      && again.note === 'all indexes already exist',
      'the same TTL index again: idempotent', again);
await rejects(t.createIndex({ other: 1 }, { name: 'createdAt_ttl' }), 86,
              'the same name, another key: 86 IndexKeySpecsConflict');
const idx = await t.listIndexes().toArray();
check(idx.find((i) => i.name === 'createdAt_ttl')?.expireAfterSeconds === 1,
      'listIndexes shows it');
await t.insertOne({ createdAt: new Date(Date.now() - 60000), old: true });
await t.insertOne({ createdAt: new Date(Date.now() + 3600000) });
let gone = false;
for (let i = 0; i < 40 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 100));
    gone = (await t.countDocuments({ old: true })) === 0;
}
check(gone && await t.countDocuments({}) === 1,
      'the TTL monitor deletes the expired document, only it');

// operators are never values, values never operators
await rejects(c.findOne({ n: { $foo: 1 } }), 2,
              'an unknown operator: 2 BadValue');
await c.insertOne({ userId: '{"$gt":""}' });
check(await c.countDocuments({ userId: { $eq: { $gt: '' } } }) === 0,
      'an object as a value matches nothing');
check(await c.countDocuments({ userId: '{"$gt":""}' }) === 1,
      'an operator-shaped string is a string');
await rejects(db.collection('bad').insertOne({ $where: 1 }), 2,
              'a $ field name at the top: refused');

// the query language, across BSON types
const q = db.collection('q');
await q.drop().catch(() => {});
await q.insertMany([
    { _id: 1, n: 1, tags: ['a', 'b'], sub: { x: 1 }, name: 'Alice',
      at: new Date(1000), items: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }] },
    { _id: 2, n: new Double(2.5), tags: ['b'], sub: { x: 2 }, name: 'bob',
      at: new Date(2000), items: [{ k: 'a', v: 3 }] },
    { _id: 3, n: Long.fromNumber(3), name: 'Carol', nothing: null },
    { _id: 4, n: '4' }]);
const ids = async (f, o = {}) =>
    (await q.find(f, o).toArray()).map((d) => d._id).join();
const queries = [
    [{ n: { $gt: 1 } }, '2,3', '$gt compares numbers only (int, double, long)'],
    [{ n: { $lt: 'z' } }, '4', '$lt on a string: strings only'],
    [{ n: 1.0 }, '1', 'a double equals an int'],
    [{ n: Long.fromNumber(1) }, '1', 'a long equals an int'],
    [{ tags: { $all: ['a', 'b'] } }, '1', '$all'],
    [{ tags: { $size: 1 } }, '2', '$size'],
    [{ 'items.k': 'b' }, '1', 'a dotted path through an array'],
    [{ 'sub.x': { $gte: 2 } }, '2', 'a dotted path into a subdocument'],
    [{ items: { $elemMatch: { k: 'a', v: { $gte: 2 } } } }, '2', '$elemMatch'],
    [{ name: { $regex: '^a', $options: 'i' } }, '1', '$regex with $options i'],
    [{ name: /^B/i }, '2', 'a regular expression as the value'],
    [{ name: { $not: /^A/ } }, '2,3,4', '$not (a missing field matches)'],
    [{ $or: [{ _id: 1 }, { _id: 3 }] }, '1,3', '$or'],
    [{ $nor: [{ _id: 1 }, { n: '4' }] }, '2,3', '$nor'],
    [{ $and: [{ n: { $gte: 1 } }, { n: { $lte: 2.5 } }] }, '1,2', '$and'],
    [{ nothing: null }, '1,2,3,4', 'null matches null and missing'],
    [{ nothing: { $exists: true } }, '3', '$exists'],
    [{ n: { $in: [1, '4'] } }, '1,4', '$in across types'],
    [{ n: { $nin: [1] } }, '2,3,4', '$nin'],
    [{ n: { $ne: 1 } }, '2,3,4', '$ne'],
    [{ tags: 'b', n: 1 }, '1', 'an array field equals one of its elements'],
    [{ sub: { x: 1 } }, '1', 'a whole subdocument'],
    [{ sub: { x: 1, y: 2 } }, '', 'a whole subdocument: all of it'],
];
for (const [f, want, name] of queries) {
    let got;
    try {
        got = await ids(f);
    } catch (e) {
        got = `error ${e.code}`;
    }
    check(got === want, `query: ${name}`, got);
}
check(await ids({}, { sort: { n: 1 } }) === '1,2,3,4',
      'sort: numbers across types, then strings');
check((await ids({}, { sort: { at: -1 } })).startsWith('2,1,'),
      'sort by a date, descending; missing last');
check(await ids({}, { sort: { tags: 1, _id: -1 } }) === '4,3,1,2',
      'a multi-key sort, an array by its least element');
const ex = await q.findOne({ _id: 1 }, { projection: { tags: 0, items: 0 } });
check(ex && !('tags' in ex) && !('items' in ex) && ex.name === 'Alice',
      'an exclusion projection');
check((await q.find({}).limit(-2).toArray()).length === 2,
      'a negative limit: one batch');
check((await q.countDocuments({}, { skip: 1, limit: 2 })) === 2,
      'countDocuments with skip and limit');
const grp = await q.aggregate([{ $match: { n: { $exists: true } } },
                               { $sort: { _id: -1 } }, { $skip: 1 },
                               { $limit: 2 }, { $project: { _id: 1 } }])
    .toArray();
check(grp.map((d) => d._id).join() === '3,2',
      'aggregate $match $sort $skip $limit $project', grp);
const cnt = await q.aggregate([{ $match: { tags: 'b' } }, { $count: 'n' }])
    .toArray();
check(cnt[0]?.n === 2, 'aggregate $count', cnt);

// write errors as a server gives them
await rejects(q.deleteMany({ a: { $foo: 1 } }), 2,
              'a delete with an unknown operator: 2');
const mixed = await db.command({ update: 'q', updates: [
    { q: { _id: 1 }, u: { $set: { a: 1 }, b: 2 } }] });
check(mixed.writeErrors?.[0]?.code === 9,
      'an update mixing operators and fields: 9 FailedToParse', mixed);
await rejects(q.replaceOne({ _id: 1 }, { _id: 99, x: 1 }), 66,
              'a replacement changing _id: 66 ImmutableField');
await rejects(q.updateOne({ _id: 1 }, { $inc: { name: 1 } }), 14,
              '$inc on a string: 14 TypeMismatch');
await rejects(db.command({ noSuchCommand: 1 }), 59,
              'an unknown command: 59 CommandNotFound');
const soi = await q.updateOne({ 'a.b': 1, k: { $eq: 'x' }, n: { $gt: 5 } },
                              { $setOnInsert: { c: 1 } }, { upsert: true });
const made = await q.findOne({ _id: soi.upsertedId });
check(made?.a?.b === 1 && made.k === 'x' && made.c === 1 && !('n' in made),
      'an upsert starts from the filter\'s equalities, then $setOnInsert',
      made);
const fod = await q.findOneAndDelete({ _id: soi.upsertedId });
check(fod?.c === 1 && await q.countDocuments({ c: 1 }) === 0,
      'findOneAndDelete');
const bad = await q.bulkWrite([{ deleteOne: { filter: { _id: 4 } } },
                               { deleteOne: { filter: { x: { $bad: 1 } } } },
                               { deleteOne: { filter: { _id: 3 } } }],
                              { ordered: false }).catch((e) => e);
check(bad?.result?.deletedCount === 2 && bad.writeErrors?.[0]?.index === 1,
      'unordered deletes: one bad filter, the others applied', bad?.message);

// unacknowledged writes (moreToCome: no reply) and cursors
await q.insertOne({ _id: 50 }, { writeConcern: { w: 0 } });
let seen50 = false;
for (let i = 0; i < 20 && !seen50; i++) {
    seen50 = !!(await q.findOne({ _id: 50 }));
    if (!seen50) await new Promise((r) => setTimeout(r, 50));
}
check(seen50, 'a w:0 insert is applied');
const cur = c.find({}).batchSize(5);
await cur.next();
const cursorId = cur.id;
await cur.close();          // killCursors
check(cur.killed, 'a cursor closed early (killCursors)');
await rejects(db.command({ getMore: cursorId, collection: 'things' }), 43,
              'and the server has forgotten it: 43 CursorNotFound');
check((await db.listCollections({ name: 'q' }).toArray()).length === 1,
      'listCollections with a filter');
check((await db.admin().listDatabases()).databases
      .some((d) => d.name === 'checkdb'), 'listDatabases');
check((await db.admin().command({ buildInfo: 1 })).version === '6.0.0',
      'buildInfo');

// fail points
const admin = client.db('admin');
await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 },
                      data: { failCommands: ['insert'], errorCode: 91 } });
await rejects(c.insertOne({ x: 1 }), 91, 'failCommand times 1: the error');
check((await c.insertOne({ x: 2 })).acknowledged, 'then the next succeeds');
await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 },
                      data: { failCommands: ['insert'], closeConnection: true } });
try {
    await c.insertOne({ x: 3 });
    check(false, 'closeConnection: a network error');
} catch (e) {
    check(/closed|ECONNRESET|network/i.test(e.message)
          || e.name === 'MongoNetworkError',
          'closeConnection: a network error', e.name);
}
check((await c.findOne({ x: 2 }))?.x === 2, 'and the driver reconnects');
await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 },
                      data: { failCommands: ['insert'], writeConcernError: {
                          code: 64, codeName: 'WriteConcernFailed',
                          errmsg: 'waiting for replication timed out',
                          errInfo: { wtimeout: true } } } });
try {
    await c.insertOne({ wce: 1 });
    check(false, 'writeConcernError: the driver reports it');
} catch (e) {
    check(e instanceof MongoWriteConcernError && e.code === 64,
          'writeConcernError: the driver reports it', e.name);
}
check((await c.countDocuments({ wce: 1 })) === 1,
      'and the write is applied, as on a server');
await admin.command({ configureFailPoint: 'failCommand', mode: { skip: 1 },
                      data: { failCommands: ['find'], blockConnection: true,
                              blockTimeMS: 300 } });
const t0 = Date.now();
await c.findOne({ x: 2 });
const t1 = Date.now();
await c.findOne({ x: 2 });
const t2 = Date.now();
check(t1 - t0 < 250 && t2 - t1 >= 290,
      'skip: 1, then blockConnection 300 ms', [t1 - t0, t2 - t1]);
await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
await admin.command({ configureFailPoint: 'failCommand', mode: 'alwaysOn',
                      data: { failCommands: ['count'], errorCode: 10107,
                              appName: 'not-this-client' } });
check(await c.estimatedDocumentCount() > 0,
      'a fail point for another appName does not apply');
await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });

await client.close();       // endSessions
check(true, 'close (endSessions)');

// SCRAM-SHA-256
if (authUri) {
    const a = new MongoClient(authUri, opts);
    await a.connect();
    check((await a.db('checkdb').collection('auth').insertOne({ a: 1 }))
          .acknowledged, 'SCRAM-SHA-256: authenticated');
    await a.close();
    const sha1 = new MongoClient(authUri + '&authMechanism=SCRAM-SHA-1', opts);
    check((await sha1.db('checkdb').collection('auth').countDocuments({})) >= 1,
          'SCRAM-SHA-1: authenticated');
    await sha1.close();
    const wrong = new MongoClient(authUri.replace(/:[^:@/]*@/, ':wrong@'),
                                  opts);
    try {
        await wrong.connect();
        check(false, 'a wrong password is refused');
    } catch (e) {
        check(/auth/i.test(e.message), 'a wrong password is refused',
              e.message);
    }
    await wrong.close();
    const anon = new MongoClient(authUri.replace(/\/\/[^@]*@/, '//'), opts);
    await rejects(anon.db('checkdb').collection('auth').findOne({}), 13,
                  'without credentials: 13 Unauthorized');
    await anon.close();
}

process.exit(failed ? 1 : 0);

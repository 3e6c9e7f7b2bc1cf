// Faithfulness check of t/mongo/fake_mongo.py: the official MongoDB Node
// driver runs what the module's store does (and more) against it and
// compares every answer with what a real mongod gives.  One line per
// check ("ok - ..." or "not ok - ..."); exit status 1 when any failed.
//
//   node check.mjs mongodb://127.0.0.1:PORT/ [mongodb://user:pass@.../?authSource=admin]

import { MongoClient, ObjectId, MongoServerError, MongoBulkWriteError }
    from 'mongodb';

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
await rejects(u.insertOne({ uid: 'a' }), 11000, 'a duplicate key: 11000');
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

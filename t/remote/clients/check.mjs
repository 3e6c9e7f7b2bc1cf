// Faithfulness check: the official OpenAI and Pinecone Node clients
// against t/remote/fake_remote.py.
//
//   node t/remote/clients/check.mjs <port> <openaiKey> <pineconeKey>
//
// The server must run with --dims 1536 (the default) and these keys.
// Prints one "ok - ..." / "not ok - ..." line a check (diagnostics on
// "# " lines) and exits non-zero when any check failed.
import OpenAI from 'openai';
import { Pinecone } from '@pinecone-database/pinecone';

const [port, openaiKey, pineconeKey] = process.argv.slice(2);
if (!port || !openaiKey || !pineconeKey) {
  console.error('usage: node check.mjs <port> <openaiKey> <pineconeKey>');
  process.exit(2);
}
const base = `http://127.0.0.1:${port}`;
const MODEL = 'text-embedding-3-small';
const DIMS = 1536;
let failures = 0;

function report(pass, name, diag) {
  console.log(`${pass ? 'ok' : 'not ok'} - ${name}`);
  if (!pass) {
    failures++;
    if (diag !== undefined) {
      const text = diag instanceof Error ? (diag.stack || String(diag)) : String(diag);
      console.log(text.split('\n').map((l) => `# ${l}`).join('\n'));
    }
  }
}

// check(name, fn): fn returns true, or a string saying what is wrong
async function check(name, fn) {
  try {
    const r = await fn();
    report(r === true, name, r === true ? undefined : r);
  } catch (e) {
    report(false, name, e);
  }
}

async function control(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}
const stats = () => control('GET', '/_control/stats');
const last = (p) => control('GET', `/_control/last?path=${encodeURIComponent(p)}`);

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const byIndex = (data) => [...data].sort((x, y) => x.index - y.index);
const f32 = (b64) => {
  const buf = Buffer.from(b64, 'base64');
  return Array.from(new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4));
};
const cos = (a, b) => {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
};

const openai = new OpenAI({ apiKey: openaiKey, baseURL: `${base}/v1`, maxRetries: 2, timeout: 10000 });
const texts = ['Vegan cooking recipes for busy weeknights',
  'Budgeting tips and personal finance for students',
  'Vegan cooking recipes for busy weeknights'];
let single, floats;

await control('POST', '/_control/reset', {});

// ---------------------------------------------------------------- OpenAI
await check('openai: embeddings.create, one string, float', async () => {
  const r = await openai.embeddings.create({ model: MODEL, input: texts[0], encoding_format: 'float' });
  if (r.object !== 'list' || r.model !== MODEL) return `object/model: ${r.object} ${r.model}`;
  if (r.data.length !== 1 || r.data[0].index !== 0 || r.data[0].object !== 'embedding') return JSON.stringify(r.data).slice(0, 200);
  if (r.data[0].embedding.length !== DIMS) return `dims ${r.data[0].embedding.length}`;
  if (!(r.usage.prompt_tokens > 0 && r.usage.total_tokens === r.usage.prompt_tokens)) return JSON.stringify(r.usage);
  single = r.data[0].embedding;
  return true;
});

await check('openai: embeddings.create, 3 strings, float, data shuffled, matched by index', async () => {
  const r = await openai.embeddings.create({ model: MODEL, input: texts, encoding_format: 'float' });
  if (r.data.map((d) => d.index).join() === '0,1,2') return 'data came in input order; the server should shuffle it';
  const d = byIndex(r.data);
  if (d.map((x) => x.index).join() !== '0,1,2') return `indexes ${d.map((x) => x.index)}`;
  if (!d.every((x) => x.embedding.length === DIMS)) return 'dims';
  floats = d.map((x) => x.embedding);
  if (!same(floats[0], floats[2])) return 'the same text gave different vectors';
  if (!same(floats[0], single)) return 'the vector differs between calls';
  const c = cos(floats[0], floats[1]);
  if (!(c < 0.5)) return `unrelated texts have cosine ${c}`;
  return true;
});

await check('openai: embeddings.create, 3 strings, base64 asked explicitly', async () => {
  const r = await openai.embeddings.create({ model: MODEL, input: texts, encoding_format: 'base64' });
  const d = byIndex(r.data);
  if (typeof d[0].embedding !== 'string') return `expected base64 strings, got ${typeof d[0].embedding}`;
  const v = d.map((x) => f32(x.embedding));
  if (!v.every((x, i) => same(x, floats[i]))) return 'base64 vectors differ from the float ones';
  return true;
});

await check('openai: embeddings.create default: the SDK asks base64 and decodes it', async () => {
  const r = await openai.embeddings.create({ model: MODEL, input: texts });
  const sent = await last('/v1/embeddings');
  if (sent.body.encoding_format !== 'base64') return `SDK sent encoding_format ${sent.body.encoding_format}`;
  const d = byIndex(r.data);
  if (!d.every((x, i) => same(Array.from(x.embedding), floats[i]))) return 'decoded vectors differ from the float ones';
  return true;
});

await check('openai: embeddings.create with dimensions 256', async () => {
  const r = await openai.embeddings.create({ model: MODEL, input: 'short', dimensions: 256, encoding_format: 'float' });
  return r.data[0].embedding.length === 256 || `dims ${r.data[0].embedding.length}`;
});

await check('openai: the key went as a Bearer token, x-request-id on the reply', async () => {
  const { data, response } = await openai.embeddings
    .create({ model: MODEL, input: 'x', encoding_format: 'float' }).withResponse();
  const sent = await last('/v1/embeddings');
  if (!sent.secrets.authorization.matches) return 'Authorization did not match';
  if (!/^req_\d+$/.test(response.headers.get('x-request-id') || '')) return 'no x-request-id';
  return data.data.length === 1 || 'no data';
});

await check('openai: chat.completions.create with response_format json_object', async () => {
  const r = await openai.chat.completions.create({
    model: 'gpt-4o-mini', temperature: 0.2, max_tokens: 400,
    response_format: { type: 'json_object' },
    messages: [{ role: 'system', content: 'Answer in JSON with framing and reasoning.' },
      { role: 'user', content: 'Pitch a vegan meal kit to busy parents who cook on weeknights' }],
  });
  if (r.object !== 'chat.completion' || !r.id || !r.created) return JSON.stringify(r).slice(0, 300);
  const c = r.choices[0];
  if (c.index !== 0 || c.finish_reason !== 'stop' || c.message.role !== 'assistant' || c.message.refusal !== null) return JSON.stringify(c);
  const j = JSON.parse(c.message.content);
  if (typeof j.framing !== 'string' || typeof j.reasoning !== 'string') return c.message.content;
  if (!j.framing.includes('Pitch a vegan meal kit')) return j.framing;
  const u = r.usage;
  return (u.prompt_tokens > 0 && u.completion_tokens > 0 && u.total_tokens === u.prompt_tokens + u.completion_tokens) || JSON.stringify(u);
});

await check('openai: chat max_completion_tokens 5 cuts with finish_reason length', async () => {
  const r = await openai.chat.completions.create({
    model: 'gpt-4o-mini', max_completion_tokens: 5,
    messages: [{ role: 'user', content: 'Describe a creator for a travel brand in many words' }],
  });
  const c = r.choices[0];
  return (c.finish_reason === 'length' && c.message.content.length <= 20) || JSON.stringify(c);
});

await check('openai: 429 with retry-after-ms is retried by the SDK and succeeds', async () => {
  await control('POST', '/_control/fault', { path: '/v1/embeddings', kind: 'status', status: 429, retry_after_ms: 50, count: 1 });
  const before = (await stats()).requests['/v1/embeddings'] || 0;
  const t0 = Date.now();
  const r = await openai.embeddings.create({ model: MODEL, input: texts[1], encoding_format: 'float' });
  const after = (await stats()).requests['/v1/embeddings'];
  if (after - before !== 2) return `expected 2 requests (429 + retry), saw ${after - before}`;
  if (!same(r.data[0].embedding, floats[1])) return 'wrong vector after the retry';
  const sent = await last('/v1/embeddings');
  if (sent.headers['x-stainless-retry-count'] !== '1') return `retry count header ${sent.headers['x-stainless-retry-count']}`;
  return Date.now() - t0 < 5000 || 'retry-after-ms was not obeyed (too slow)';
});

await check('openai: 401 with a wrong key is an AuthenticationError with code invalid_api_key', async () => {
  const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${base}/v1`, maxRetries: 0 });
  try {
    await bad.embeddings.create({ model: MODEL, input: 'x' });
    return 'no error';
  } catch (e) {
    if (!(e instanceof OpenAI.AuthenticationError)) return e;
    if (e.status !== 401 || e.code !== 'invalid_api_key' || e.type !== 'invalid_request_error') return `${e.status} ${e.code} ${e.type}`;
    return /^req_/.test(e.requestID || '') || `requestID ${e.requestID}`;
  }
});

await check('openai: 400 for an unknown field is a BadRequestError', async () => {
  try {
    await openai.embeddings.create({ model: MODEL, input: 'x', bogus: 1 });
    return 'no error';
  } catch (e) {
    return (e instanceof OpenAI.BadRequestError && /bogus/.test(e.message)) || e;
  }
});

// ---------------------------------------------------------------- Pinecone
const pc = new Pinecone({ apiKey: pineconeKey });
const index = pc.index('matcher-test', base);
const ns = index.namespace('creators');
const records = [
  { id: 'c-1', values: floats[0], metadata: { region: 'US', tags: ['cooking', 'vegan'], followers: 1200, verified: true } },
  { id: 'c-2', values: floats[1], metadata: { region: 'UK', tags: ['finance'], followers: 800, verified: false } },
  { id: 'c-3', values: single.map((x, i) => (i % 2 ? x : -x)), metadata: { region: 'US', tags: ['travel', 'cooking'], followers: 50 } },
];
const ids = (m) => m.map((x) => x.id).join(',');

await check('pinecone: upsert 3 records with metadata', async () => {
  await ns.upsert(records);
  const sent = await last('/vectors/upsert');
  if (!sent.secrets['api-key'].matches) return 'Api-Key did not match';
  if (!sent.headers['x-pinecone-api-version']) return 'no X-Pinecone-Api-Version';
  return (sent.body.namespace === 'creators' && sent.body.vectors.length === 3) || JSON.stringify(sent.body).slice(0, 200);
});

await check('pinecone: fetch the 3 records', async () => {
  const r = await ns.fetch(['c-1', 'c-2', 'c-3', 'nope']);
  const got = Object.keys(r.records).sort().join(',');
  if (got !== 'c-1,c-2,c-3') return `fetched ${got}`;
  if (JSON.stringify(r.records['c-2'].metadata) !== JSON.stringify(records[1].metadata)) return JSON.stringify(r.records['c-2']);
  return r.records['c-1'].values.length === DIMS || 'values';
});

await check("pinecone: query with filter {region: {$eq: 'US'}}", async () => {
  const r = await ns.query({ vector: floats[0], topK: 10, filter: { region: { $eq: 'US' } }, includeMetadata: true });
  if (ids(r.matches) !== 'c-1,c-3') return `matches ${ids(r.matches)}`;
  const sent = await last('/query');
  if (JSON.stringify(sent.body.filter) !== JSON.stringify({ region: { $eq: 'US' } })) return JSON.stringify(sent.body.filter);
  if (Math.abs(r.matches[0].score - 1) > 1e-6) return `score ${r.matches[0].score}`;
  if (r.matches[0].values && r.matches[0].values.length) return 'values came back unasked';
  return (r.matches[0].metadata && r.matches[0].metadata.region === 'US' && r.namespace === 'creators') || JSON.stringify(r).slice(0, 300);
});

await check('pinecone: query with $in on a list field', async () => {
  const r = await ns.query({ vector: floats[1], topK: 10, filter: { tags: { $in: ['cooking', 'nothing'] } } });
  return ids(r.matches).split(',').sort().join(',') === 'c-1,c-3' || `matches ${ids(r.matches)}`;
});

await check('pinecone: query by id with includeValues, best first', async () => {
  const r = await ns.query({ id: 'c-2', topK: 2, includeValues: true });
  if (r.matches[0].id !== 'c-2' || r.matches.length !== 2) return `matches ${ids(r.matches)}`;
  return (r.matches[0].values.length === DIMS && r.matches[0].score >= r.matches[1].score) || 'values/order';
});

await check('pinecone: listPaginated, 2 pages', async () => {
  const p1 = await ns.listPaginated({ prefix: 'c-', limit: 2 });
  if (ids(p1.vectors) !== 'c-1,c-2' || !p1.pagination || !p1.pagination.next) return JSON.stringify(p1);
  const p2 = await ns.listPaginated({ prefix: 'c-', limit: 2, paginationToken: p1.pagination.next });
  return (ids(p2.vectors) === 'c-3' && !p2.pagination) || JSON.stringify(p2);
});

await check('pinecone: describeIndexStats', async () => {
  const s = await index.describeIndexStats();
  return (s.dimension === DIMS && s.totalRecordCount === 3 && s.namespaces.creators.recordCount === 3) || JSON.stringify(s);
});

await check('pinecone: update setMetadata merges', async () => {
  await ns.update({ id: 'c-2', metadata: { region: 'US', note: 'moved' } });
  const r = await ns.fetch(['c-2']);
  const m = r.records['c-2'].metadata;
  return (m.region === 'US' && m.note === 'moved' && m.followers === 800) || JSON.stringify(m);
});

await check('pinecone: deleteOne, then stats show 2', async () => {
  await ns.deleteOne('c-3');
  const sent = await last('/vectors/delete');
  if (JSON.stringify(sent.body.ids) !== '["c-3"]') return JSON.stringify(sent.body);
  const s = await index.describeIndexStats();
  return (s.totalRecordCount === 2 && s.namespaces.creators.recordCount === 2) || JSON.stringify(s);
});

await check("pinecone: the default namespace ('__default__' from the SDK) is ''", async () => {
  await index.upsert([{ id: 'd-1', values: floats[0], metadata: { region: 'EU' } }]);
  const s = await index.describeIndexStats();
  if (!s.namespaces[''] || s.namespaces[''].recordCount !== 1) return JSON.stringify(s);
  const r = await index.query({ vector: floats[0], topK: 1 });
  return ids(r.matches) === 'd-1' || `matches ${ids(r.matches)}`;
});

// Pinecone's TS SDK 6.x retries 5xx on upsert and update only (not query)
await check('pinecone: a 503 on upsert is retried by the SDK and succeeds', async () => {
  await control('POST', '/_control/fault', { path: '/vectors/upsert', kind: 'status', status: 503, count: 1 });
  const before = (await stats()).requests['/vectors/upsert'];
  await ns.upsert([{ id: 'c-4', values: floats[1], metadata: { region: 'EU' } }]);
  const after = (await stats()).requests['/vectors/upsert'];
  const r = await ns.fetch(['c-4']);
  return (r.records['c-4'] && after - before === 2) || `${after - before} requests`;
});

await check('pinecone: a 503 on query is a PineconeUnavailableError (not retried by 6.x)', async () => {
  await control('POST', '/_control/fault', { path: '/query', kind: 'status', status: 503, count: 1 });
  try {
    await ns.query({ vector: floats[0], topK: 1 });
    return 'no error';
  } catch (e) {
    return e.name === 'PineconeUnavailableError' || e;
  }
});

await check('pinecone: 401 with a wrong key is a PineconeAuthorizationError', async () => {
  const bad = new Pinecone({ apiKey: 'wrong' }).index('matcher-test', base);
  try {
    await bad.describeIndexStats();
    return 'no error';
  } catch (e) {
    return e.name === 'PineconeAuthorizationError' || e;
  }
});

await check('pinecone: 400 (wrong dimension) is a PineconeBadRequestError', async () => {
  try {
    await ns.upsert([{ id: 'bad', values: [1, 2, 3] }]);
    return 'no error';
  } catch (e) {
    return (e.name === 'PineconeBadRequestError' && /dimension/.test(e.message)) || e;
  }
});

await control('POST', '/_control/clear', {});
process.exit(failures ? 1 : 0);

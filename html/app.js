// The matcher's web page: plain DOM, no framework, no build step.
// Every value from the API goes into the page through textContent and
// DOM properties, never as HTML: creator bios and names are anyone's
// text.  It calls the JSON API of its own origin (/api/...), with the
// key from the field above (kept in sessionStorage for this tab only).
'use strict';

const KEY_STORE = 'matcher.apiKey';

// The example briefs: the project's example assignment and three more
const EXAMPLES = [
    {
        name: 'Shrinkflation (the example assignment)',
        brief: {
            topic: 'Shrinkflation: paying the same price for smaller or '
                + 'lower-value products',
            keyTakeaway: 'Help people spot shrinkflation and see how it '
                + 'shows up in everyday purchases even when the price tag '
                + 'does not move.',
            additionalContext: 'Shrinkflation is when a company keeps the '
                + 'price but cuts the size, quantity or quality of a '
                + 'product. Explain it to your audience with personal '
                + 'examples you have noticed while shopping. Keep it honest '
                + 'and authentic. No political endorsements, no promoting '
                + 'paid products, video 90 seconds or less.',
            targetAudience: {
                demographic: 'Everyday U.S. consumers, especially adults '
                    + 'feeling rising costs',
                locale: 'US',
            },
            creatorValues: ['Honesty', 'Transparency'],
            creatorNiches: ['Lifestyle', 'Personal Finance',
                            'Consumer Awareness'],
            toneStyle: 'Conversational, relatable, honest, lightly '
                + 'educational',
        },
    },
    {
        name: 'Heat waves and staying safe',
        brief: {
            topic: 'Staying safe in extreme heat',
            keyTakeaway: 'Heat illness is preventable: know the warning '
                + 'signs and check on neighbours who live alone.',
            additionalContext: 'Summers are getting hotter. Share simple, '
                + 'science-based habits: water, shade, cool rooms, and when '
                + 'to call for help. No fear-mongering.',
            targetAudience: { demographic: 'Adults in cities', locale: 'US' },
            creatorValues: ['Accuracy', 'Community'],
            creatorNiches: ['Public Health', 'Climate Education'],
            toneStyle: 'Calm, clear, practical',
        },
    },
    {
        name: 'First job negotiation',
        brief: {
            topic: 'Negotiating your first salary offer',
            keyTakeaway: 'Asking for more is normal, and preparing one '
                + 'number with a reason behind it is enough.',
            additionalContext: 'Many graduates accept the first offer. '
                + 'Walk through a short, respectful script and what to '
                + 'research beforehand. No promises of results.',
            targetAudience: { demographic: 'Students and recent graduates' },
            creatorValues: ['Empowerment'],
            creatorNiches: ['Career Development', 'Personal Finance'],
            toneStyle: 'Encouraging, direct',
        },
    },
    {
        name: 'Cooking on a budget',
        brief: {
            topic: 'Cheap weeknight meals from pantry staples',
            keyTakeaway: 'Beans, rice and a few spices make a week of good '
                + 'dinners for little money.',
            additionalContext: 'Show one recipe start to finish and explain '
                + 'why it works. Real kitchen, no sponsored products.',
            creatorNiches: ['Cooking', 'Food Science'],
            toneStyle: 'Warm, curious',
        },
    },
];

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) {
        e.className = cls;
    }
    if (text !== undefined && text !== null) {
        e.textContent = String(text);
    }
    return e;
}

function clear(node) {
    while (node.firstChild) {
        node.removeChild(node.firstChild);
    }
}

// "semanticSimilarity" -> "Semantic similarity"
function label(field) {
    const words = String(field).replace(/([a-z0-9])([A-Z])/g, '$1 $2')
        .toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
}

function num(x, digits) {
    return typeof x === 'number' && isFinite(x) ? x.toFixed(digits) : '–';
}

function list(xs) {
    return Array.isArray(xs) ? xs.filter((x) => typeof x === 'string')
        .join(', ') : '';
}

// ---- errors: the envelope's error, code and details --------------------

class ApiError extends Error {
    constructor(status, body) {
        const env = body && typeof body === 'object' ? body : {};
        super(typeof env.error === 'string' ? env.error
            : 'the server answered ' + status);
        this.status = status;
        this.code = typeof env.code === 'string' ? env.code : '';
        this.details = Array.isArray(env.details) ? env.details : [];
    }
}

function showError(err) {
    const box = $('error');
    const msg = $('error-message');
    const ul = $('error-details');
    clear(ul);
    if (err instanceof ApiError) {
        let text = err.status + (err.code ? ' ' + err.code : '') + ': '
            + err.message;
        if (err.status === 401 || err.status === 403) {
            text += ' (set an API key above)';
        }
        msg.textContent = text;
        for (const d of err.details) {
            if (!d || typeof d !== 'object') {
                continue;
            }
            const parts = [];
            if (d.field !== undefined) {
                parts.push(String(d.field));
            }
            if (d.message !== undefined) {
                parts.push(String(d.message));
            }
            ul.appendChild(el('li', null, parts.join(': ')));
        }
    } else {
        msg.textContent = String(err && err.message ? err.message : err);
    }
    box.hidden = false;
}

function hideError() {
    $('error').hidden = true;
}

// ---- the API ------------------------------------------------------------

function apiKey() {
    try {
        return sessionStorage.getItem(KEY_STORE) || '';
    } catch (e) {
        return '';
    }
}

function headers(accept) {
    const h = { Accept: accept || 'application/json' };
    const key = apiKey();
    if (key) {
        h.Authorization = 'Bearer ' + key;
    }
    return h;
}

// A POST always carries a JSON type, even without a body: the module
// refuses anything else (a page of another origin cannot send it).
async function send(method, path, body, accept) {
    const init = { method, headers: headers(accept), cache: 'no-store' };
    if (method !== 'GET') {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body === undefined ? {} : body);
    }
    const r = await fetch(path, init);
    if (!r.ok) {
        let env = null;
        try {
            env = await r.json();
        } catch (e) {
            env = null;
        }
        throw new ApiError(r.status, env);
    }
    return r;
}

async function api(method, path, body) {
    const r = await send(method, path, body);
    return r.json();
}

// a button busy while its request runs
async function busy(button, fn) {
    if (button) {
        button.disabled = true;
        button.setAttribute('aria-busy', 'true');
    }
    hideError();
    try {
        return await fn();
    } catch (e) {
        showError(e);
        return undefined;
    } finally {
        if (button) {
            button.disabled = false;
            button.removeAttribute('aria-busy');
        }
    }
}

// ---- the key --------------------------------------------------------------

function showKeyState() {
    $('key-state').textContent = apiKey() ? 'a key is set for this tab'
                                          : 'no key';
}

$('key-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('api-key').value.trim();
    try {
        if (v) {
            sessionStorage.setItem(KEY_STORE, v);
        } else {
            sessionStorage.removeItem(KEY_STORE);
        }
    } catch (e) {
        showError(new Error('this browser keeps no session storage'));
    }
    $('api-key').value = '';
    hideError();
    showKeyState();
});

$('key-clear').addEventListener('click', () => {
    try {
        sessionStorage.removeItem(KEY_STORE);
    } catch (e) {
        /* nothing kept */
    }
    $('api-key').value = '';
    showKeyState();
});

// ---- views ----------------------------------------------------------------

const TABS = ['match', 'creators', 'embeddings'];

function showView(name) {
    for (const t of TABS) {
        $('tab-' + t).setAttribute('aria-pressed', String(t === name));
        $('view-' + t).hidden = t !== name;
    }
    if (name === 'creators' && !$('creator-list').firstChild) {
        browse(1);
    }
}

for (const t of TABS) {
    $('tab-' + t).addEventListener('click', () => showView(t));
}

// ---- matching -------------------------------------------------------------

for (const [i, ex] of EXAMPLES.entries()) {
    const o = el('option', null, ex.name);
    o.value = String(i);
    $('example').appendChild(o);
}

function fillBrief(b) {
    const ta = b.targetAudience || {};
    $('topic').value = b.topic || '';
    $('keyTakeaway').value = b.keyTakeaway || '';
    $('additionalContext').value = b.additionalContext || '';
    $('demographic').value = ta.demographic || '';
    $('locale').value = ta.locale || '';
    $('creatorNiches').value = list(b.creatorNiches);
    $('creatorValues').value = list(b.creatorValues);
    $('toneStyle').value = b.toneStyle || '';
}

$('example').addEventListener('change', () => {
    const ex = EXAMPLES[Number($('example').value)];
    if ($('example').value !== '' && ex) {
        fillBrief(ex.brief);
    }
});

function words(id) {
    return $(id).value.split(',').map((s) => s.trim()).filter(Boolean);
}

function briefBody() {
    const a = {
        topic: $('topic').value.trim(),
        keyTakeaway: $('keyTakeaway').value.trim(),
        additionalContext: $('additionalContext').value.trim(),
    };
    const demo = $('demographic').value.trim();
    const locale = $('locale').value.trim();
    if (demo || locale) {
        a.targetAudience = {};
        if (demo) {
            a.targetAudience.demographic = demo;
        }
        if (locale) {
            a.targetAudience.locale = locale;
        }
    }
    if (words('creatorNiches').length) {
        a.creatorNiches = words('creatorNiches');
    }
    if (words('creatorValues').length) {
        a.creatorValues = words('creatorValues');
    }
    if ($('toneStyle').value.trim()) {
        a.toneStyle = $('toneStyle').value.trim();
    }
    const body = { assignment: a };
    const k = parseInt($('topK').value, 10);
    if (Number.isInteger(k)) {
        body.topK = k;
    }
    return body;
}

function bars(breakdown) {
    const ul = el('ul', 'bars');
    ul.setAttribute('aria-label', 'Score breakdown');
    if (!breakdown || typeof breakdown !== 'object') {
        return ul;
    }
    for (const field of Object.keys(breakdown)) {
        const v = breakdown[field];
        const li = el('li', 'bar-row');
        li.dataset.field = field;
        li.appendChild(el('span', 'bar-label', label(field)));
        const track = el('span', 'bar');
        track.setAttribute('aria-hidden', 'true');
        const fill = el('span', 'bar-fill');
        const frac = typeof v === 'number' && isFinite(v)
            ? Math.max(0, Math.min(1, v)) : 0;
        // CSSOM, not a style attribute: the CSP allows it
        fill.style.width = (frac * 100).toFixed(1) + '%';
        track.appendChild(fill);
        li.appendChild(track);
        li.appendChild(el('span', 'bar-value', num(v, 2)));
        ul.appendChild(li);
    }
    return ul;
}

function matchCard(m) {
    const c = m.creator && typeof m.creator === 'object' ? m.creator : {};
    const id = c.uniqueId || m.creatorId || '';
    const li = el('li', 'card match');
    const head = el('div', 'card-head');
    const who = el('div');
    who.appendChild(el('h3', 'name', c.nickname || id));
    who.appendChild(el('p', 'handle muted', '@' + id));
    head.appendChild(who);
    const score = el('p', 'score');
    score.appendChild(el('span', 'score-label', 'Match score '));
    score.appendChild(el('strong', 'score-value', num(m.matchScore, 2)));
    head.appendChild(score);
    li.appendChild(head);
    li.appendChild(bars(m.scoreBreakdown));
    li.appendChild(el('h4', null, 'Why'));
    li.appendChild(el('p', 'reasoning', m.reasoning));
    if (m.framingSuggestion) {
        li.appendChild(el('h4', null, 'Framing'));
        li.appendChild(el('p', 'framing', m.framingSuggestion));
    }
    if (id) {
        const b = el('button', 'link', 'Profile and lookalikes');
        b.type = 'button';
        b.addEventListener('click', () => {
            showView('creators');
            openCreator(id);
        });
        li.appendChild(b);
    }
    return li;
}

let lastMatchBody = null;

$('brief-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = briefBody();
    busy($('match-submit'), async () => {
        const out = await api('POST', '/api/matches', body);
        const d = out && out.data ? out.data : {};
        const matches = Array.isArray(d.matches) ? d.matches : [];
        const ol = $('matches');
        clear(ol);
        for (const m of matches) {
            ol.appendChild(matchCard(m));
        }
        let s = typeof d.reasoning === 'string' ? d.reasoning : '';
        if (d.isFallback) {
            s += ' (semantic search was unavailable: ranked on structured '
                + 'signals only)';
        }
        $('match-summary').textContent = matches.length + ' creator'
            + (matches.length === 1 ? '' : 's') + '. ' + s;
        lastMatchBody = body;
        $('csv').disabled = false;
    });
});

// the same request again, as CSV, saved as matches.csv
$('csv').addEventListener('click', () => {
    if (!lastMatchBody) {
        return;
    }
    const body = lastMatchBody;
    busy($('csv'), async () => {
        const r = await send('POST', '/api/matches', body, 'text/csv');
        // a server without CSV answers JSON: not worth saving as .csv
        if (!/^text\/csv\b/i.test(r.headers.get('Content-Type') || '')) {
            throw new Error('the server did not answer with CSV');
        }
        const blob = await r.blob();
        const url = URL.createObjectURL(blob);
        const a = document.createElement('a');
        a.href = url;
        a.download = 'matches.csv';
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
    });
});

// ---- creators -------------------------------------------------------------

let page = 1;
let pages = 1;
let current = null;

function creatorItem(c, extra) {
    const li = el('li');
    const b = el('button', 'creator');
    b.type = 'button';
    b.dataset.id = c.uniqueId || '';
    b.appendChild(el('span', 'name', c.nickname || c.uniqueId));
    b.appendChild(el('span', 'handle muted', ' @' + (c.uniqueId || '')));
    const meta = [];
    if (c.region) {
        meta.push(c.region);
    }
    if (typeof c.followerCount === 'number') {
        meta.push(c.followerCount.toLocaleString('en-US') + ' followers');
    }
    const a = c.analysis && typeof c.analysis === 'object' ? c.analysis : {};
    if (Array.isArray(a.primaryNiches)) {
        meta.push(list(a.primaryNiches));
    }
    b.appendChild(el('span', 'meta muted', meta.join(' · ')));
    if (extra) {
        b.appendChild(el('span', 'meta', extra));
    }
    b.addEventListener('click', () => openCreator(c.uniqueId));
    li.appendChild(b);
    return li;
}

function showList(title, creators, summary) {
    $('list-title').textContent = title;
    $('list-summary').textContent = summary;
    const ul = $('creator-list');
    clear(ul);
    for (const c of creators) {
        if (c && typeof c === 'object') {
            ul.appendChild(creatorItem(c.creator || c,
                c.score !== undefined ? 'score ' + num(c.score, 3) : null));
        }
    }
}

function browse(p) {
    const q = new URLSearchParams();
    q.set('page', String(p));
    q.set('limit', $('limit').value || '20');
    if ($('region').value.trim()) {
        q.set('region', $('region').value.trim());
    }
    if ($('niche').value.trim()) {
        q.set('niche', $('niche').value.trim());
    }
    return busy(null, async () => {
        const out = await api('GET', '/api/creators?' + q.toString());
        const pg = out.pagination || {};
        page = pg.page || p;
        pages = pg.pages || 1;
        showList('Creators', Array.isArray(out.creators) ? out.creators : [],
                 (pg.total || 0) + ' creators, page ' + page + ' of '
                 + Math.max(pages, 1));
        $('prev').disabled = page <= 1;
        $('next').disabled = page >= pages;
    });
}

$('browse-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    browse(1);
});
$('prev').addEventListener('click', () => browse(page - 1));
$('next').addEventListener('click', () => browse(page + 1));

$('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    hideError();
    const body = { query: $('query').value.trim() };
    const k = parseInt($('searchTopK').value, 10);
    if (Number.isInteger(k)) {
        body.topK = k;
    }
    const f = $('filter').value.trim();
    if (f) {
        try {
            body.filter = JSON.parse(f);
        } catch (e) {
            showError(new Error('the filter is not JSON: ' + e.message));
            $('filter').focus();
            return;
        }
    }
    const button = ev.submitter || null;
    busy(button, async () => {
        const out = await api('POST', '/api/creators/search', body);
        const rs = Array.isArray(out.results) ? out.results : [];
        showList('Search results', rs, rs.length + ' results for "'
                 + (out.query || body.query) + '"');
        $('prev').disabled = true;
        $('next').disabled = true;
    });
});

function fact(dl, name, value) {
    if (value === undefined || value === null || value === '') {
        return;
    }
    dl.appendChild(el('dt', null, name));
    dl.appendChild(el('dd', null, value));
}

function openCreator(id) {
    if (!id) {
        return undefined;
    }
    return busy(null, async () => {
        const out = await api('GET', '/api/creators/'
                              + encodeURIComponent(id));
        const c = out.creator || {};
        const a = c.analysis && typeof c.analysis === 'object'
            ? c.analysis : {};
        const es = a.engagementStyle && typeof a.engagementStyle === 'object'
            ? a.engagementStyle : {};
        current = c.uniqueId || id;
        $('profile-name').textContent = c.nickname || current;
        $('profile-handle').textContent = '@' + current
            + (c.verified === true ? ' (verified)' : '');
        const dl = $('profile-facts');
        clear(dl);
        fact(dl, 'Region', c.region);
        fact(dl, 'Followers', typeof c.followerCount === 'number'
             ? c.followerCount.toLocaleString('en-US') : null);
        fact(dl, 'Niches', list((a.primaryNiches || [])
                                .concat(a.secondaryNiches || [])));
        fact(dl, 'Values', list(a.apparentValues));
        fact(dl, 'Tone', list(es.tone));
        fact(dl, 'Embedding', c.embedding && c.embedding.status);
        $('profile-bio').textContent = c.bio || '';
        $('profile-summary').textContent = a.summary || '';
        // a link only to http(s): a javascript: URL never becomes one
        const link = $('profile-link');
        let url = null;
        try {
            url = new URL(String(c.profileUrl || ''));
        } catch (e) {
            url = null;
        }
        if (url && (url.protocol === 'https:' || url.protocol === 'http:')) {
            link.href = url.href;
            link.hidden = false;
        } else {
            link.removeAttribute('href');
            link.hidden = true;
        }
        $('similar').hidden = true;
        $('profile').hidden = false;
        $('profile').focus();
    });
}

$('lookalikes').addEventListener('click', () => {
    if (!current) {
        return;
    }
    const id = current;
    busy($('lookalikes'), async () => {
        const out = await api('GET', '/api/creators/'
                              + encodeURIComponent(id) + '/similar?topK=10');
        const rs = Array.isArray(out.results) ? out.results : [];
        $('similar-title').textContent = 'Lookalikes of @' + id + ' ('
            + rs.length + ')';
        const ul = $('similar-list');
        clear(ul);
        for (const r of rs) {
            if (!r || typeof r !== 'object') {
                continue;
            }
            const c = r.creator && typeof r.creator === 'object'
                ? r.creator : { uniqueId: r.creatorId || r.id };
            const shared = r.shared && typeof r.shared.summary === 'string'
                ? r.shared.summary : '';
            ul.appendChild(creatorItem(c, 'score ' + num(r.score, 3)
                                       + (shared ? ' · ' + shared : '')));
        }
        $('similar').hidden = false;
    });
});

// ---- the embeddings refresh -----------------------------------------------

let polling = null;

function showJob(job) {
    const total = typeof job.total === 'number' ? job.total : 0;
    const done = typeof job.processed === 'number' ? job.processed : 0;
    const bar = $('job-progress');
    bar.max = Math.max(total, 1);
    bar.value = job.status === 'completed' ? bar.max : Math.min(done, bar.max);
    $('job-label').textContent = 'Job ' + (job.id || '') + ': ' + done
        + ' of ' + total + ' creators';
    let s = 'Status: ' + (job.status || '?') + ', errors: '
        + (typeof job.errors === 'number' ? job.errors : 0);
    if (job.error) {
        s += '. ' + job.error;
    }
    $('job-status').textContent = s;
    const dl = $('job-summary');
    clear(dl);
    if (job.summary && typeof job.summary === 'object') {
        for (const k of Object.keys(job.summary)) {
            fact(dl, label(k), job.summary[k]);
        }
    }
    $('job').hidden = false;
}

async function poll(id) {
    try {
        const out = await api('GET', '/api/creators/embeddings/refresh/'
                              + encodeURIComponent(id));
        const job = out.job || {};
        showJob(job);
        if (job.status === 'running') {
            polling = setTimeout(() => poll(id), 500);
            return;
        }
    } catch (e) {
        showError(e);
    }
    polling = null;
    $('refresh-start').disabled = false;
}

$('refresh-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (polling) {
        return;
    }
    const body = { forceRefresh: $('forceRefresh').checked };
    const n = parseInt($('batchSize').value, 10);
    if (Number.isInteger(n)) {
        body.batchSize = n;
    }
    busy($('refresh-start'), async () => {
        const out = await api('POST', '/api/creators/embeddings/refresh',
                              body);
        const job = out.job || {};
        showJob(job);
        if (job.id) {
            // stays disabled until the job ends
            polling = setTimeout(() => poll(job.id), 300);
        }
    }).then(() => {
        if (polling) {
            $('refresh-start').disabled = true;
        }
    });
});

showKeyState();

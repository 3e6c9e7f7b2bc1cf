// Cross-site checks in headless Chromium (t/074-browser.t): a page of an
// origin the API does not list tries to ingest, refresh and create; a
// page of the listed origin does the same as the React front end would.
// Prints one JSON object of what each fetch saw; the Perl test checks it
// and the server's access log.
//
//   node check.mjs API_BASE ALLOWED_ORIGIN EVIL_ORIGIN CHROMIUM
import { chromium } from 'playwright-core';

const [api, allowed, evil, executablePath] = process.argv.slice(2);

// what a fetch saw, as far as the page may know it
async function attempts(page, list) {
    return page.evaluate(async ({ api, list }) => {
        const out = {};
        for (const a of list) {
            try {
                const r = await fetch(api + a.path, a.init);
                out[a.name] = { type: r.type, status: r.status,
                                requestId: r.headers.get('X-Request-Id'),
                                body: r.type === 'opaque' ? null
                                                          : await r.text() };
            } catch (e) {
                out[a.name] = { error: String(e) };
            }
        }
        return out;
    }, { api, list });
}

const creator = {
    uniqueId: 'browser-1', nickname: 'B', bio: 'Cooking videos',
    followerCount: 10, region: 'US',
    analysis: { summary: 'Cooking.', primaryNiches: ['Cooking'],
                engagementStyle: { tone: ['Warm'] } },
};
const assignment = {
    topic: 'Budget apps', keyTakeaway: 'Track every dollar',
    additionalContext: 'For students', userId: 'browser-user',
};

const browser = await chromium.launch({
    executablePath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const result = {};
try {
    const page = await browser.newPage();

    await page.goto(evil + '/page.html');
    result.evil = await attempts(page, [
        // "simple" requests: no preflight, the browser sends them
        { name: 'ingest', path: '/api/creators/ingest',
          init: { method: 'POST', mode: 'no-cors' } },
        { name: 'refresh', path: '/api/creators/embeddings/refresh',
          init: { method: 'POST', mode: 'no-cors' } },
        { name: 'create_text', path: '/api/assignments',
          init: { method: 'POST', mode: 'no-cors',
                  headers: { 'Content-Type': 'text/plain' },
                  body: JSON.stringify(assignment) } },
        { name: 'create_form', path: '/api/assignments',
          init: { method: 'POST', mode: 'no-cors',
                  body: new URLSearchParams({ topic: 'x' }) } },
        // with JSON: a preflight first, which CORS answers for us only
        { name: 'create_json', path: '/api/assignments',
          init: { method: 'POST',
                  headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify(assignment) } },
        { name: 'read', path: '/api/creators?limit=1', init: {} },
    ]);

    await page.goto(allowed + '/page.html');
    result.allowed = await attempts(page, [
        { name: 'ingest', path: '/api/creators/ingest',
          init: { method: 'POST',
                  headers: { 'Content-Type': 'application/json' },
                  body: JSON.stringify({ creators: [creator] }) } },
        { name: 'refresh', path: '/api/creators/embeddings/refresh',
          init: { method: 'POST',
                  headers: { 'Content-Type': 'application/json' } } },
        { name: 'create_json', path: '/api/assignments',
          init: { method: 'POST',
                  headers: { 'Content-Type': 'application/json',
                             'X-Request-Id': 'ignored' },
                  body: JSON.stringify(assignment) } },
        { name: 'read', path: '/api/creators?limit=1', init: {} },
    ]);
} finally {
    await browser.close();
}
process.stdout.write(JSON.stringify(result) + '\n');

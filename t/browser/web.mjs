// The web page (html/) in headless Chromium (t/075-web.t).  Prints one
// JSON object of what the page showed; the Perl test checks it.
//
//   node web.mjs open BASE CHROMIUM SCREENSHOT_DIR HOSTILE_ID
//   node web.mjs key  BASE CHROMIUM SCREENSHOT_DIR KEY
import { chromium } from 'playwright-core';

const [mode, base, executablePath, shots, arg] = process.argv.slice(2);
const T = 10000;

const browser = await chromium.launch({
    executablePath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const out = { mode, consoleErrors: [], failed: [], bad: [], apiAuth: [] };

// what a card shows: the texts the test looks for
async function cards(page) {
    return page.$$eval('#matches > li', (lis) => lis.map((li) => ({
        name: li.querySelector('.name')?.textContent ?? '',
        handle: li.querySelector('.handle')?.textContent ?? '',
        score: li.querySelector('.score-value')?.textContent ?? '',
        bars: [...li.querySelectorAll('.bar-row')].map((r) => ({
            field: r.dataset.field,
            label: r.querySelector('.bar-label')?.textContent ?? '',
            value: r.querySelector('.bar-value')?.textContent ?? '',
            width: r.querySelector('.bar-fill')?.getBoundingClientRect()
                .width ?? -1,
        })),
        reasoning: li.querySelector('.reasoning')?.textContent ?? '',
        framing: li.querySelector('.framing')?.textContent ?? '',
    })));
}

async function step(name, fn) {
    try {
        out[name] = await fn();
    } catch (e) {
        out[name] = { error: String(e && e.message || e).split('\n')[0] };
    }
}

try {
    const context = await browser.newContext({
        viewport: { width: 1200, height: 900 }, acceptDownloads: true,
    });
    const page = await context.newPage();
    page.on('console', (m) => {
        if (m.type() === 'error') {
            out.consoleErrors.push(m.text());
        }
    });
    page.on('pageerror', (e) => out.consoleErrors.push('pageerror: ' + e));
    page.on('requestfailed', (r) => out.failed.push(r.url() + ' '
        + (r.failure() ? r.failure().errorText : '')));
    page.on('response', (r) => {
        if (r.status() >= 400) {
            out.bad.push(r.status() + ' ' + r.request().method() + ' '
                         + new URL(r.url()).pathname);
        }
    });
    page.on('request', (r) => {
        if (new URL(r.url()).pathname.startsWith('/api/')) {
            out.apiAuth.push(r.headers().authorization ?? null);
        }
    });

    const r = await page.goto(base + '/');
    out.page = { status: r.status(), csp: r.headers()['content-security-policy'],
                 title: await page.title() };

    if (mode === 'key') {
        // no key: the example brief gets the 401's message
        await step('nokey', async () => {
            await page.selectOption('#example', '0');
            await page.click('#match-submit');
            await page.waitForSelector('#error:not([hidden])', { timeout: T });
            return { error: await page.textContent('#error'),
                     cards: await page.locator('#matches > li').count() };
        });
        await step('withkey', async () => {
            await page.fill('#api-key', arg);
            await page.press('#api-key', 'Enter');
            await page.click('#match-submit');
            await page.waitForSelector('#matches > li', { timeout: T });
            return { cards: await cards(page),
                     errorHidden: await page.$eval('#error', (e) => e.hidden),
                     stored: await page.evaluate(() =>
                         sessionStorage.getItem('matcher.apiKey')),
                     keyState: await page.textContent('#key-state') };
        });
        await step('browse', async () => {
            await page.click('#tab-creators');
            await page.waitForSelector('#creator-list li', { timeout: T });
            return { count: await page.locator('#creator-list li').count() };
        });
        await page.screenshot({ path: shots + '/web-key.png', fullPage: true });
    } else {
        // an example brief, submitted with the mouse
        await step('example', async () => {
            await page.selectOption('#example', '0');
            const [reply] = await Promise.all([
                page.waitForResponse((r) => r.url().endsWith('/api/matches'),
                                     { timeout: T }),
                page.click('#match-submit'),
            ]);
            await page.waitForFunction(() =>
                document.querySelectorAll('#matches > li').length === 3,
                null, { timeout: T });
            const data = (await reply.json()).data || {};
            return { cards: await cards(page),
                     fields: (data.matches || []).map((m) =>
                         Object.keys(m.scoreBreakdown || {})),
                     ids: (data.matches || []).map((m) => m.creatorId),
                     summary: await page.textContent('#match-summary'),
                     csvEnabled: await page.isEnabled('#csv') };
        });
        await page.screenshot({ path: shots + '/web-matches.png',
                                fullPage: true });

        // Download CSV: the same matches, saved as a file
        await step('csv', async () => {
            const [download] = await Promise.all([
                page.waitForEvent('download', { timeout: T }),
                page.click('#csv'),
            ]);
            const fs = await import('node:fs/promises');
            const text = await fs.readFile(await download.path(), 'utf8');
            const lines = text.split('\r\n');
            return { name: download.suggestedFilename(),
                     header: lines[0],
                     rows: lines.filter((l) => l !== '').length - 1,
                     ids: lines.slice(1).filter((l) => l !== '')
                         .map((l) => l.split(',')[0]) };
        });

        // a brief of our own, typed, submitted from the keyboard
        await step('own', async () => {
            await page.selectOption('#example', '');
            await page.fill('#topic', 'Houseplants that survive a dark flat');
            await page.fill('#keyTakeaway', 'Pick plants for the light you '
                            + 'have, not the light you wish you had.');
            await page.fill('#additionalContext', 'Short tips, real homes, '
                            + 'no sponsored products.');
            await page.fill('#topK', '5');
            await page.focus('#topK');
            await page.keyboard.press('Enter');
            await page.waitForFunction(() =>
                document.querySelectorAll('#matches > li').length === 5,
                null, { timeout: T });
            return { cards: await cards(page) };
        });

        // browse, filter, a profile, its lookalikes
        await step('browse', async () => {
            await page.click('#tab-creators');
            await page.waitForSelector('#creator-list li', { timeout: T });
            const all = await page.locator('#creator-list li').count();
            const summary = await page.textContent('#list-summary');
            await page.fill('#region', 'UK');
            await page.click('#browse-form button[type=submit]');
            await page.waitForFunction(() =>
                document.getElementById('list-summary').textContent
                    .startsWith('1 creators'), null, { timeout: T });
            const uk = await page.$$eval('#creator-list button.creator',
                (bs) => bs.map((b) => b.dataset.id));
            await page.fill('#region', '');
            return { all, summary, uk };
        });
        await step('profile', async () => {
            await page.click('#creator-list button.creator');
            await page.waitForSelector('#profile:not([hidden])', { timeout: T });
            await page.click('#lookalikes');
            await page.waitForSelector('#similar:not([hidden]) li',
                                       { timeout: T });
            return { name: await page.textContent('#profile-name'),
                     handle: await page.textContent('#profile-handle'),
                     similar: await page.$$eval('#similar-list button',
                         (bs) => bs.map((b) => b.dataset.id)),
                     title: await page.textContent('#similar-title') };
        });
        await step('search', async () => {
            await page.fill('#query', 'saving money');
            await page.fill('#filter', '{"region": "US"}');
            await page.fill('#searchTopK', '4');
            await page.click('#search-form button[type=submit]');
            await page.waitForFunction(() =>
                document.getElementById('list-title').textContent
                    === 'Search results', null, { timeout: T });
            return { ids: await page.$$eval('#creator-list button.creator',
                         (bs) => bs.map((b) => b.dataset.id)) };
        });
        // the hostile creator: its markup stays text
        await step('hostile', async () => {
            await page.fill('#query', '');
            await page.fill('#filter', '');
            await page.evaluate((id) => openCreator(id), arg);
            await page.waitForFunction((id) =>
                document.getElementById('profile-handle').textContent
                    .startsWith('@' + id), arg, { timeout: T });
            return { name: await page.textContent('#profile-name'),
                     bio: await page.textContent('#profile-bio'),
                     elements: await page.$$eval('#profile img, #profile b,'
                         + ' #profile script', (es) => es.length),
                     pwned: await page.evaluate(() => window.pwned ?? null) };
        });

        // a refresh, watched to its end
        await step('refresh', async () => {
            await page.click('#tab-embeddings');
            await page.check('#forceRefresh');
            await page.click('#refresh-start');
            await page.waitForFunction(() =>
                /Status: (completed|failed)/.test(
                    document.getElementById('job-status').textContent),
                null, { timeout: 20000 });
            return { status: await page.textContent('#job-status'),
                     label: await page.textContent('#job-label'),
                     value: await page.$eval('#job-progress', (p) => p.value),
                     max: await page.$eval('#job-progress', (p) => p.max),
                     summary: await page.textContent('#job-summary') };
        });

        // phone width: nothing wider than the screen
        await step('phone', async () => {
            await page.setViewportSize({ width: 375, height: 800 });
            await page.click('#tab-match');
            await page.screenshot({ path: shots + '/web-phone.png',
                                    fullPage: true });
            return { scrollWidth: await page.evaluate(() =>
                document.documentElement.scrollWidth) };
        });
    }
} finally {
    await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');

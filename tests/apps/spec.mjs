#!/usr/bin/env node
// The TodoMVC functional spec, run in headless Chromium against a built app.
//
// Usage: node tests/apps/spec.mjs <dir> [<page>] [--app NAME] [--only REGEX]
//                                 [--json FILE] [--verbose] [--strict]
//   <dir>    directory to serve (a release: prebake's out dir)
//   <page>   page path inside <dir> (default index.html)
//   --app    which entry of the APPS table below applies (default: the page's
//            <html data-framework>, else a path segment of <dir>)
//   --only   run only the checks whose name matches REGEX
//   --json   also write the results as JSON to FILE
//   --strict also run the checks the APPS table skips for an app's documented
//            deviation from the spec
//
// Serves <dir> on 127.0.0.1 (ephemeral port; `X-Content-Type-Options: nosniff`,
// so a script or stylesheet served with the wrong type fails as on a real CDN),
// opens <page> in a fresh browser context for every check (fresh localStorage),
// and runs a port of TodoMVC's Cypress spec (cypress/e2e/spec.cy.js at tastejs/
// todomvc ff43b02e5) plus a few extras: the CSS really applied (computed-style
// probes, including CSS that came from node_modules), delete via the destroy
// button. Chromium is /usr/bin/chromium or $PREBAKE_CHROMIUM, driven by
// playwright-core from tests/browser/node_modules (tests/setup.sh installs it).
//
// Prints one PASS/FAIL/SKIP line per check, then the page problems, then
// "<app>: N passed, N failed, N skipped". Exit status:
//   0  every check passed and there were no page problems;
//   1  a check failed, or a page problem: an uncaught exception, a console
//      error, a failed request, a response with HTTP status >= 400, or a
//      request to anything but the loopback server (aborted; the test must not
//      use the network). The one exception is the 404 for /learn.json that
//      todomvc-common/base.js asks for (it fills TodoMVC's "learn" sidebar and
//      only acts on a 200), ignored when the page loads base.js;
//   2  usage or harness failure (no such page, Chromium or playwright-core
//      missing).
// If the first check (the app renders) fails, the others are not run: they
// would each wait for an input that never appears.

import http from 'node:http';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- options
// Selectors and behaviour that TodoMVC's app-spec.md prescribes (class names of
// todomvc-app-css). Every app starts from these; the APPS table below overrides
// what differs.
const DEFAULT_SEL = {
    newTodo: '.new-todo',
    items: '.todo-list li',
    label: 'label', // text element inside an item
    toggle: '.toggle', // checkbox inside an item
    destroy: '.destroy', // delete button inside an item
    edit: '.edit', // edit input inside an item
    main: '.main',
    footer: '.footer',
    count: '.todo-count',
    toggleAllInput: '.toggle-all',
    toggleAllLabel: 'label[for="toggle-all"]', // what a user actually clicks (the chevron)
    clearCompleted: '.clear-completed',
    filterLinks: '.filters a',
    heading: 'h1',
};

const DEFAULTS = {
    sel: DEFAULT_SEL,
    focusMatch: '.new-todo', // deep document.activeElement must match this on load
    completedBy: 'class', // 'class': li.completed ; 'checkbox': item toggle is checked
    persists: false, // survives reload (localStorage)
    newestFirst: false, // list renders in reverse insertion order
    slowDoubleClick: false, // enter edit mode with two separate clicks instead of dblclick()
    trimsNew: true, // new-todo text is trimmed
    trimsEdit: true, // edited text is trimmed
    blurSaves: true, // blurring the edit input commits the edit
    clearCompletedHides: true, // "Clear completed" hidden when nothing completed
    counterSuffix: ' left', // text after "<n> item(s)"
    labelPadded: false, // the label's template puts one space either side of the text
    // computed-style probes proving the app's CSS (incl. CSS from node_modules) got applied
    styleProbes: [
        { sel: 'body', prop: 'background-color', value: 'rgb(245, 245, 245)' }, // todomvc-app-css/base.css
        { sel: 'h1', prop: 'color', value: 'rgb(184, 63, 69)' }, // todomvc-app-css 2.4: #b83f45
    ],
};

// Per-app options, keyed by the app's folder under tests/apps/ (the example's
// folder name upstream). Each entry lists only how the app differs from
// DEFAULTS, each with why: other markup (sel), where the app deviates from the
// spec (a check it cannot pass shows as SKIP with the reason, and runs with
// --strict), and the computed styles that prove its CSS applied.
// The modern (Speedometer 3) rebuilds keep their state in memory only (the
// upstream Cypress spec lists them in noLocalStorageCheck), hence the default
// persists: false. Shadow-DOM apps need no special locator code: Playwright
// CSS selectors pierce open shadow roots (including the descendant combinator).
const APPS = {
    react: {
        counterSuffix: ' left!', // footer.jsx renders "N items left!"
    },
    preact: {
        counterSuffix: ' left!', // footer.js renders "N items left!"
    },
    lit: {
        // <todo-app> -> <todo-list> -> <todo-item>, three nested open shadow roots.
        sel: { footer: 'todo-footer' }, // the footer is the <todo-footer> host (class "hidden" toggled)
        trimsNew: false, // todo-form.ts adds the raw input value (no trim) — app deviation
        // todo-item.ts renders `<label> ${this.text} </label>`. Upstream's rollup build minifies
        // html`` literals (rollup-plugin-html-literals), which drops those two spaces; tsc's
        // output and any build that does not rewrite template strings keeps them. The trim
        // checks accept exactly that padding (an untrimmed "    text    " still fails).
        labelPadded: true,
        styleProbes: [
            { sel: 'body', prop: 'background-color', value: 'rgb(245, 245, 245)' }, // inline <style> + base.css
            { sel: 'h1', prop: 'color', value: 'rgb(184, 63, 69)' }, // lit css`` in todo-app (shadow)
        ],
    },
    'javascript-es6': {
        // Store is in-memory (store.js memoryStorage), toggle-all <input> has no id and the
        // app listens for clicks on .toggle-all-label (we always click the label anyway).
        sel: { toggleAllLabel: '.toggle-all-label' },
        // template.js show() does data.reverse(): the list renders newest first. All order
        // assertions are mirrored for this app (so "append to the bottom" checks the top).
        newestFirst: true,
    },
    'web-components': {
        // Completely different markup (Speedometer "vanilla web components" design):
        // every component has its own open shadow root and its own class names.
        sel: {
            newTodo: '.new-todo-input',
            items: '.todo-list li.todo-item',
            label: '.todo-item-text', // a <span>, not a <label>
            toggle: '.toggle-todo-input',
            destroy: '.remove-todo-button',
            edit: '.edit-todo-input',
            main: '.main',
            footer: '.bottombar',
            count: '.todo-status',
            toggleAllInput: '.toggle-all-input',
            toggleAllLabel: '.toggle-all-label',
            clearCompleted: '.clear-completed-button',
            filterLinks: '.filter-link',
            heading: 'h1.title',
        },
        focusMatch: '.new-todo-input',
        completedBy: 'checkbox', // the <li> never gets a "completed" class; CSS keys off :checked
        trimsNew: false, // topbar adds the raw value — app deviation
        trimsEdit: false, // item saves the raw value — app deviation
        blurSaves: false, // blur only leaves edit mode (stopEdit), Enter saves — app deviation
        // useDoubleClick.js treats two 'click's as a double click only if 0 < dt < 500ms; Playwright's
        // dblclick() can land both clicks in the same millisecond (dt == 0) => flaky. Click twice, 80ms apart.
        slowDoubleClick: true,
        clearCompletedHides: false, // button is always displayed — app deviation
        counterSuffix: ' left!', // bottombar renders "N items left!"
        styleProbes: [
            { sel: 'body', prop: 'background-color', value: 'rgb(245, 245, 245)' }, // styles/global.css
            { sel: 'h1.title', prop: 'color', value: 'rgb(184, 63, 69)' }, // styles/header.css
            { sel: '.new-todo-input', prop: 'height', value: '68px' }, // constructable sheet (topbar)
        ],
    },
    'typescript-react': {
        // Legacy (2019) example: React 16 + director hash router + localStorage ('react-todos').
        persists: true,
        styleProbes: [
            { sel: 'body', prop: 'background-color', value: 'rgb(245, 245, 245)' }, // todomvc-common/base.css
            { sel: 'h1', prop: 'color', value: 'rgba(175, 47, 47, 0.15)' }, // todomvc-app-css 2.1.2
        ],
    },
};
// <html data-framework> values that differ from the folder name
const FRAMEWORK_ALIASES = { typescript: 'typescript-react', 'javascript-es6-webpack': 'javascript-es6' };

function optionsFor(app) {
    const o = APPS[app] || {};
    return { ...DEFAULTS, ...o, sel: { ...DEFAULT_SEL, ...(o.sel || {}) } };
}

// ---------------------------------------------------------------- args
function usage(msg) {
    if (msg) console.error(`spec.mjs: ${msg}`);
    console.error('usage: node tests/apps/spec.mjs <dir> [<page>] [--app NAME] [--only REGEX] [--json FILE] [--verbose] [--strict]');
    process.exit(2);
}
const argv = process.argv.slice(2);
const flags = {};
const positional = [];
for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--verbose' || a === '--strict') flags[a.slice(2)] = true;
    else if (['--app', '--only', '--json'].includes(a)) {
        if (i + 1 >= argv.length) usage(`${a} needs a value`);
        flags[a.slice(2)] = argv[++i];
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else positional.push(a);
}
if (positional.length < 1 || positional.length > 2) usage();
const ROOT = path.resolve(positional[0]);
const PAGE = (positional[1] || 'index.html').replace(/^\/+/, '');
if (!fs.existsSync(path.join(ROOT, PAGE))) usage(`no such page: ${path.join(ROOT, PAGE)}`);
if (flags.app && !APPS[flags.app]) usage(`unknown app ${flags.app} (known: ${Object.keys(APPS).join(', ')})`);

// ---------------------------------------------------------------- static server
const MIME = {
    '.html': 'text/html; charset=utf-8', '.htm': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.cjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8', '.json': 'application/json; charset=utf-8', '.map': 'application/json; charset=utf-8',
    '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
    '.webp': 'image/webp', '.avif': 'image/avif', '.ico': 'image/x-icon',
    '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf', '.eot': 'application/vnd.ms-fontobject',
    '.wasm': 'application/wasm', '.txt': 'text/plain; charset=utf-8', '.xml': 'application/xml', '.webmanifest': 'application/manifest+json',
};
const served = []; // [status, path] of every request, for --verbose
const server = http.createServer(async (req, res) => {
    let rel;
    try { rel = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { rel = '/'; }
    let file = path.join(ROOT, path.normalize(rel));
    if (file !== ROOT && !file.startsWith(ROOT + path.sep)) { res.writeHead(403); return res.end(); }
    try {
        let st = await fsp.stat(file);
        if (st.isDirectory()) { file = path.join(file, 'index.html'); st = await fsp.stat(file); }
        const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
        res.writeHead(200, {
            'Content-Type': type, 'Content-Length': st.size, 'Cache-Control': 'no-store',
            'X-Content-Type-Options': 'nosniff',
        });
        served.push([200, rel]);
        if (req.method === 'HEAD') return res.end();
        fs.createReadStream(file).pipe(res);
    } catch {
        // The browser asks for /favicon.ico on its own; not the app's request.
        if (rel === '/favicon.ico') { res.writeHead(204); return res.end(); }
        served.push([404, rel]);
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
    }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const ORIGIN = `http://127.0.0.1:${server.address().port}`;
const PAGE_URL = `${ORIGIN}/${PAGE.split('/').map(encodeURIComponent).join('/')}`;

// ---------------------------------------------------------------- browser
function harnessError(msg) {
    console.error(`spec.mjs: ${msg}`);
    server.close();
    process.exit(2);
}
let chromium;
try {
    ({ chromium } = createRequire(path.join(HERE, '../browser/package.json'))('playwright-core'));
} catch (e) {
    harnessError(`cannot load playwright-core from tests/browser/node_modules (${e.code || e.message}); run tests/setup.sh`);
}
const chromiumPath = process.env.PREBAKE_CHROMIUM || '/usr/bin/chromium';
let browser;
try {
    // Playwright starts Chromium on a fresh temporary profile and removes it on close.
    browser = await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
} catch (e) {
    harnessError(`cannot launch Chromium at ${chromiumPath} (${e.message.split('\n')[0]}); run tests/setup.sh or set PREBAKE_CHROMIUM`);
}

// The only tolerated problem: todomvc-common/base.js requests <page dir>/learn.json.
const pageLoadsBaseJs = () => served.some(([s, u]) => s === 200 && /(^|\/)base(-[0-9a-f]+)?\.js$/.test(u));
const LEARN_JSON = /\/learn\.json$/;
const problems = []; // { test, kind, text }
let ignoredCount = 0;

function watch(page, testName) {
    const note = (kind, text, url) => {
        if (url && LEARN_JSON.test(new URL(url, ORIGIN).pathname) && kind === 'http 404' && pageLoadsBaseJs()) {
            ignoredCount++;
            return;
        }
        problems.push({ test: testName, kind, text: String(text).slice(0, 500) });
    };
    page.on('pageerror', (e) => note('pageerror', e.stack || e.message));
    page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const url = m.location()?.url;
        // Chromium logs every >= 400 response as "Failed to load resource"; the
        // response itself is judged below.
        if (/^Failed to load resource: the server responded with a status of 404/.test(m.text()) && url
            && LEARN_JSON.test(new URL(url, ORIGIN).pathname) && pageLoadsBaseJs()) { ignoredCount++; return; }
        note('console.error', `${m.text()}${url ? ` @ ${url}` : ''}`);
    });
    page.on('requestfailed', (r) => {
        if (r.failure()?.errorText === 'net::ERR_BLOCKED_BY_CLIENT') return; // an external request, noted below
        note('requestfailed', `${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('response', (r) => { if (r.status() >= 400) note(`http ${r.status()}`, r.url(), r.url()); });
}

async function newPage(testName) {
    const context = await browser.newContext({ viewport: { width: 890, height: 900 }, serviceWorkers: 'block' });
    context.setDefaultTimeout(5000);
    await context.route('**/*', (route) => {
        const u = route.request().url();
        let local = false;
        try { local = new URL(u).origin === ORIGIN; } catch {}
        if (local) return route.continue();
        problems.push({ test: testName, kind: 'external request (blocked)', text: u.slice(0, 500) });
        return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    watch(page, testName);
    return { context, page };
}

// ---------------------------------------------------------------- helpers
const TODO_ITEM_ONE = 'buy some cheese';
const TODO_ITEM_TWO = 'feed the cat';
const TODO_ITEM_THREE = 'book a doctors appointment';

class CheckError extends Error {}

async function eventually(fn, what, timeout = 3000) {
    const end = Date.now() + timeout;
    let last;
    for (;;) {
        try {
            const r = await fn();
            if (r === true || r === undefined) return;
            last = r;
        } catch (e) { last = e.message; }
        if (Date.now() > end) throw new CheckError(`${what}${last !== undefined && last !== false ? ` (last: ${String(last).split('\n')[0]})` : ''}`);
        await new Promise((r) => setTimeout(r, 25));
    }
}
const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

function makeApi(page, opt) {
    const S = opt.sel;
    const items = () => page.locator(S.items);
    const visibleItems = () => page.locator(S.items).filter({ visible: true });
    const api = {
        items, visibleItems,
        async add(text) {
            const before = await items().count();
            const input = page.locator(S.newTodo);
            await input.fill(text);
            await input.press('Enter');
            await eventually(async () => (await items().count()) === before + 1 || `count=${await items().count()}`,
                `todo "${text.trim()}" should be added`);
        },
        async addDefaults() {
            for (const t of [TODO_ITEM_ONE, TODO_ITEM_TWO, TODO_ITEM_THREE]) await api.add(t);
        },
        labelText: async (li) => norm(await li.locator(S.label).first().textContent()),
        // the label holds exactly `text` (what the trim checks need), allowing for the
        // template's own padding where the app has some (opt.labelPadded)
        async expectExactLabel(li, text) {
            const ok = opt.labelPadded ? [text, ` ${text} `] : [text];
            await eventually(async () => {
                const got = await li.locator(S.label).first().textContent();
                return ok.includes(got) || JSON.stringify(got);
            }, `label text should be exactly "${text}"${opt.labelPadded ? ' (or padded by the template\'s one space either side)' : ''}`);
        },
        // logical index (insertion order) -> locator, honouring apps that render newest first
        item: (i) => items().nth(opt.newestFirst ? -1 - i : i),
        visibleItem: (i) => visibleItems().nth(opt.newestFirst ? -1 - i : i),
        async expectTexts(expected, visibleOnly = true) {
            const want = opt.newestFirst ? [...expected].reverse() : expected;
            await eventually(async () => {
                // one atomic snapshot (the list may re-render between count() and nth())
                const loc = (visibleOnly ? visibleItems() : items()).locator(S.label);
                const got = (await loc.allTextContents()).map(norm);
                return JSON.stringify(got) === JSON.stringify(want) || JSON.stringify(got);
            }, `${visibleOnly ? 'visible ' : ''}todos should be ${JSON.stringify(want)}`);
        },
        async isCompleted(li) {
            if (opt.completedBy === 'checkbox') return li.locator(S.toggle).first().isChecked();
            return /(^|\s)completed(\s|$)/.test((await li.getAttribute('class')) || '');
        },
        async expectCompleted(li, want, name) {
            await eventually(async () => (await api.isCompleted(li)) === want,
                `${name} should ${want ? '' : 'not '}be completed`);
        },
        async toggleItem(li) { await li.locator(S.toggle).first().click(); },
        async clickToggleAll() {
            // click where the user sees the chevron; some apps put an invisible input there,
            // some listen on the label, one sets pointer-events:none on the label.
            const label = page.locator(S.toggleAllLabel).first();
            await label.waitFor({ state: 'visible' });
            const b = await label.boundingBox();
            await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
        },
        toggleAllChecked: () => page.locator(S.toggleAllInput).first().isChecked(),
        async startEdit(li) {
            const label = li.locator(S.label).first();
            if (opt.slowDoubleClick) {
                // two real clicks 80ms apart (see APPS['web-components'].slowDoubleClick)
                await label.click();
                await new Promise((r) => setTimeout(r, 80));
                await label.click();
            } else await label.dblclick();
            const edit = li.locator(S.edit).first();
            await edit.waitFor({ state: 'visible', timeout: 3000 });
            return edit;
        },
        async filter(name) {
            await page.locator(S.filterLinks).filter({ hasText: new RegExp(`^\\s*${name}\\s*$`) }).first().click();
        },
        filterLink: (name) => page.locator(S.filterLinks).filter({ hasText: new RegExp(`^\\s*${name}\\s*$`) }).first(),
        async expectCount(n) {
            const want = `${n} ${n === 1 ? 'item' : 'items'}${opt.counterSuffix}`;
            await eventually(async () => norm(await page.locator(S.count).first().textContent()) === want
                || norm(await page.locator(S.count).first().textContent()), `counter should read "${want}"`);
        },
        async expectVisible(sel, want, what) {
            await eventually(async () => {
                const loc = page.locator(sel);
                const vis = (await loc.count()) > 0 && (await loc.first().isVisible());
                return vis === want;
            }, `${what} should ${want ? 'be visible' : 'be hidden'}`);
        },
    };
    return api;
}

// ---------------------------------------------------------------- the spec
// Test names follow todomvc/cypress/e2e/spec.cy.js ("context › it").
function defineTests(opt) {
    const S = opt.sel;
    const T = [];
    const test = (name, fn, skip) => T.push({ name, fn, skip });

    test('Page › loads and renders the app (heading, new-todo input)', async ({ page }) => {
        await eventually(async () => /^todos$/i.test(norm(await page.locator(S.heading).first().textContent())), 'heading "todos"');
        await page.locator(S.newTodo).waitFor({ state: 'visible' });
    });
    test('Page › CSS applied (computed-style probes)', async ({ page }) => {
        for (const p of opt.styleProbes) {
            await eventually(async () => {
                const v = await page.locator(p.sel).first().evaluate((el, prop) => getComputedStyle(el).getPropertyValue(prop), p.prop);
                return v === p.value || `${p.sel} ${p.prop}=${v}`;
            }, `${p.sel} { ${p.prop}: ${p.value} }`);
        }
    });
    test('When page is initially opened › should focus on the todo input field', async ({ page }) => {
        await eventually(() => page.evaluate((m) => {
            let a = document.activeElement;
            while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
            return (a && a.matches(m)) || `activeElement=${a && a.outerHTML.slice(0, 80)}`;
        }, opt.focusMatch), 'new-todo input should have focus');
    });
    test('No Todos › starts with nothing', async ({ api }) => {
        if ((await api.items().count()) !== 0) throw new CheckError('expected 0 items');
    });
    test('No Todos › should hide #main and #footer', async ({ api }) => {
        await api.expectVisible(S.main, false, 'main');
        await api.expectVisible(S.footer, false, 'footer');
    });
    test('New Todo › should allow me to add todo items', async ({ api }) => {
        await api.add(TODO_ITEM_ONE);
        await api.expectTexts([TODO_ITEM_ONE]);
        await api.add(TODO_ITEM_TWO);
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_TWO]);
    });
    test('New Todo › should clear text input field when an item is added', async ({ page, api }) => {
        await api.add(TODO_ITEM_ONE);
        await eventually(async () => (await page.locator(S.newTodo).inputValue()) === '', 'new-todo input should be empty');
    });
    test(`New Todo › should append new items to the bottom of the list${opt.newestFirst ? ' (mirrored: app renders newest first)' : ''}`, async ({ api }) => {
        await api.addDefaults();
        await api.expectCount(3);
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_TWO, TODO_ITEM_THREE]);
    });
    test('New Todo › should trim text input', async ({ api }) => {
        await api.add(`    ${TODO_ITEM_ONE}    `);
        await api.expectExactLabel(api.item(0), TODO_ITEM_ONE);
    }, !opt.trimsNew && 'app does not trim new todos');
    test('New Todo › should show #main and #footer when items added', async ({ api }) => {
        await api.add(TODO_ITEM_ONE);
        await api.expectVisible(S.main, true, 'main');
        await api.expectVisible(S.footer, true, 'footer');
    });
    test('Mark all as completed › should allow me to mark all items as completed', async ({ api }) => {
        await api.addDefaults();
        await api.clickToggleAll();
        for (let i = 0; i < 3; i++) await api.expectCompleted(api.item(i), true, `todo ${i}`);
    });
    test('Mark all as completed › should allow me to clear the complete state of all items', async ({ api }) => {
        await api.addDefaults();
        await api.clickToggleAll();
        await api.expectCompleted(api.item(2), true, 'todo 2');
        await api.clickToggleAll();
        for (let i = 0; i < 3; i++) await api.expectCompleted(api.item(i), false, `todo ${i}`);
    });
    test('Mark all as completed › complete all checkbox should update state when items are completed / cleared', async ({ api }) => {
        await api.addDefaults();
        await api.clickToggleAll();
        await eventually(async () => (await api.toggleAllChecked()) === true, 'toggle-all should be checked');
        const first = api.item(0);
        await api.toggleItem(first);
        await api.expectCompleted(first, false, 'first todo');
        await eventually(async () => (await api.toggleAllChecked()) === false, 'toggle-all should be unchecked');
        await api.toggleItem(first);
        await api.expectCompleted(first, true, 'first todo');
        await eventually(async () => (await api.toggleAllChecked()) === true, 'toggle-all should be checked again');
    });
    test('Item › should allow me to mark items as complete', async ({ api }) => {
        await api.add(TODO_ITEM_ONE);
        await api.add(TODO_ITEM_TWO);
        const [a, b] = [api.item(0), api.item(1)];
        await api.toggleItem(a);
        await api.expectCompleted(a, true, 'first');
        await api.expectCompleted(b, false, 'second');
        await api.toggleItem(b);
        await api.expectCompleted(a, true, 'first');
        await api.expectCompleted(b, true, 'second');
    });
    test('Item › should allow me to un-mark items as complete', async ({ api }) => {
        await api.add(TODO_ITEM_ONE);
        await api.add(TODO_ITEM_TWO);
        const [a, b] = [api.item(0), api.item(1)];
        await api.toggleItem(a);
        await api.expectCompleted(a, true, 'first');
        await api.expectCompleted(b, false, 'second');
        await api.toggleItem(a);
        await api.expectCompleted(a, false, 'first');
        await api.expectCompleted(b, false, 'second');
    });
    test('Item › should allow me to edit an item', async ({ api }) => {
        await api.addDefaults();
        const edit = await api.startEdit(api.visibleItem(1));
        await eventually(async () => (await edit.inputValue()) === TODO_ITEM_TWO, `edit input should hold "${TODO_ITEM_TWO}"`);
        await edit.fill('buy some sausages');
        await edit.press('Enter');
        await api.expectTexts([TODO_ITEM_ONE, 'buy some sausages', TODO_ITEM_THREE]);
    });
    test('Item › should allow me to delete an item (destroy button) [extra]', async ({ api }) => {
        await api.addDefaults();
        const li = api.item(1);
        await li.hover();
        await li.locator(S.destroy).first().click();
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_THREE]);
        await api.expectCount(2);
    });
    test('Editing › should hide other controls when editing', async ({ page, api }) => {
        await api.addDefaults();
        await api.startEdit(api.item(1));
        const li = api.item(1);
        await eventually(async () => !(await li.locator(S.toggle).first().isVisible()), 'toggle should be hidden');
        await eventually(async () => !(await li.locator(S.label).first().isVisible()), 'label should be hidden');
    });
    test('Editing › should save edits on blur', async ({ api }) => {
        await api.addDefaults();
        const edit = await api.startEdit(api.item(1));
        await edit.fill('buy some sausages');
        await edit.blur();
        await api.expectTexts([TODO_ITEM_ONE, 'buy some sausages', TODO_ITEM_THREE]);
    }, !opt.blurSaves && 'app does not save on blur');
    test('Editing › should trim entered text', async ({ api }) => {
        await api.addDefaults();
        const edit = await api.startEdit(api.item(1));
        await edit.fill('    buy some sausages    ');
        await edit.press('Enter');
        await api.expectExactLabel(api.item(1), 'buy some sausages');
        await api.expectTexts([TODO_ITEM_ONE, 'buy some sausages', TODO_ITEM_THREE]);
    }, !opt.trimsEdit && 'app does not trim edits');
    test('Editing › should remove the item if an empty text string was entered', async ({ api }) => {
        await api.addDefaults();
        const edit = await api.startEdit(api.item(1));
        await edit.fill('');
        await edit.press('Enter');
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_THREE]);
    });
    test('Editing › should cancel edits on escape', async ({ api }) => {
        await api.addDefaults();
        const edit = await api.startEdit(api.visibleItem(1));
        await edit.fill('foo');
        await edit.press('Escape');
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_TWO, TODO_ITEM_THREE]);
    });
    test('Counter › should display the current number of todo items', async ({ api }) => {
        await api.add(TODO_ITEM_ONE);
        await api.expectCount(1);
        await api.add(TODO_ITEM_TWO);
        await api.expectCount(2);
        await api.toggleItem(api.item(0));
        await api.expectCount(1);
    });
    test('Clear completed button › should display the correct text', async ({ page, api }) => {
        await api.addDefaults();
        await api.toggleItem(api.item(0));
        await eventually(async () => norm(await page.locator(S.clearCompleted).first().textContent()) === 'Clear completed',
            'button text "Clear completed"');
    });
    test('Clear completed button › should remove completed items when clicked', async ({ page, api }) => {
        await api.addDefaults();
        const li = api.item(1);
        await api.toggleItem(li);
        await api.expectCompleted(li, true, 'second');
        await page.locator(S.clearCompleted).first().click();
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_THREE], false);
    });
    test('Clear completed button › should be hidden when there are no items that are completed', async ({ page, api }) => {
        await api.addDefaults();
        await api.toggleItem(api.item(1));
        await api.expectVisible(S.clearCompleted, true, 'clear-completed');
        await page.locator(S.clearCompleted).first().click();
        await api.expectVisible(S.clearCompleted, false, 'clear-completed');
    }, !opt.clearCompletedHides && 'app always shows the button');
    test('Persistence › should persist its data', async ({ page, api }) => {
        await api.add(TODO_ITEM_ONE);
        await api.add(TODO_ITEM_TWO);
        await api.toggleItem(api.item(0));
        const state = async () => {
            await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_TWO]);
            await api.expectCompleted(api.item(0), true, 'first');
            await api.expectCompleted(api.item(1), false, 'second');
        };
        await state();
        await page.reload();
        await page.locator(S.newTodo).waitFor({ state: 'visible' });
        await state();
    }, !opt.persists && 'app keeps state in memory only');
    test('Routing › should allow me to display active items', async ({ api }) => {
        await api.addDefaults();
        await api.toggleItem(api.item(1));
        await api.expectCompleted(api.item(1), true, 'second');
        await api.filter('Active');
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_THREE]);
    });
    test('Routing › should respect the back button', async ({ page, api }) => {
        await api.addDefaults();
        await api.toggleItem(api.item(1));
        await api.expectCompleted(api.item(1), true, 'second');
        await api.filter('All');
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_TWO, TODO_ITEM_THREE]);
        await api.filter('Active');
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_THREE]);
        await api.filter('Completed');
        await api.expectTexts([TODO_ITEM_TWO]);
        await page.goBack();
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_THREE]);
        await page.goBack();
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_TWO, TODO_ITEM_THREE]);
    });
    test('Routing › should allow me to display completed items', async ({ api }) => {
        await api.addDefaults();
        await api.toggleItem(api.item(1));
        await api.expectCompleted(api.item(1), true, 'second');
        await api.filter('Completed');
        await api.expectTexts([TODO_ITEM_TWO]);
    });
    test('Routing › should allow me to display all items', async ({ api }) => {
        await api.addDefaults();
        await api.toggleItem(api.item(1));
        await api.expectCompleted(api.item(1), true, 'second');
        await api.filter('Active');
        await api.filter('Completed');
        await api.filter('All');
        await api.expectTexts([TODO_ITEM_ONE, TODO_ITEM_TWO, TODO_ITEM_THREE]);
    });
    test('Routing › should highlight the currently applied filter', async ({ api }) => {
        await api.addDefaults(); // footer (and its links) is hidden while the list is empty
        const sel = async (n) => /(^|\s)selected(\s|$)/.test((await api.filterLink(n).getAttribute('class')) || '');
        await eventually(() => sel('All'), '"All" should be selected');
        await api.filter('Active');
        await eventually(() => sel('Active'), '"Active" should be selected');
        await api.filter('Completed');
        await eventually(() => sel('Completed'), '"Completed" should be selected');
    });
    return T;
}

// ---------------------------------------------------------------- main
async function detectApp() {
    if (flags.app) return flags.app;
    const html = await fsp.readFile(path.join(ROOT, PAGE), 'utf8');
    const m = /<html[^>]*\sdata-framework=["']?([^"'\s>]+)/i.exec(html);
    if (m) {
        const fw = FRAMEWORK_ALIASES[m[1]] || m[1];
        if (APPS[fw]) return fw;
    }
    for (const seg of ROOT.split(path.sep).reverse()) if (APPS[seg]) return seg;
    return m ? m[1] : 'unknown';
}

const app = await detectApp();
const opt = optionsFor(app);
if (!APPS[app]) console.log(`note: no options for app "${app}", using the defaults`);
console.log(`app: ${app}\nserving: ${ROOT}\npage: ${PAGE_URL}\n`);

const only = flags.only ? new RegExp(flags.only, 'i') : null;
const results = [];
let notRun = 0;
const tests = defineTests(opt).filter((t) => !only || only.test(t.name));
for (const [i, t] of tests.entries()) {
    if (t.skip && !flags.strict) {
        results.push({ name: t.name, status: 'skip', reason: t.skip });
        console.log(`SKIP ${t.name}  (${t.skip})`);
        continue;
    }
    const { context, page } = await newPage(t.name);
    const started = Date.now();
    let status = 'pass';
    let reason = '';
    let rendered = false;
    try {
        await page.goto(PAGE_URL, { waitUntil: 'load' });
        await page.locator(opt.sel.newTodo).waitFor({ state: 'visible', timeout: 5000 });
        rendered = true;
        await t.fn({ page, api: makeApi(page, opt) });
    } catch (e) {
        status = 'fail';
        reason = (e instanceof CheckError ? e.message : `${e.name}: ${e.message}`).split('\n')[0];
        if (!rendered) reason = `the app did not render (${opt.sel.newTodo} never became visible): ${reason}`;
    }
    await context.close();
    results.push({ name: t.name, status, reason, ms: Date.now() - started });
    console.log(`${status === 'pass' ? 'PASS' : 'FAIL'} ${t.name}${reason ? `  -- ${reason}` : ''}${flags.verbose ? `  [${Date.now() - started}ms]` : ''}`);
    if (!rendered) {
        notRun = tests.length - i - 1;
        if (notRun) console.log(`STOP ${notRun} further checks not run: the app did not render`);
        break;
    }
}

await browser.close();
server.close();

const pass = results.filter((r) => r.status === 'pass').length;
const fail = results.filter((r) => r.status === 'fail').length;
const skip = results.filter((r) => r.status === 'skip').length;

console.log('');
if (problems.length) {
    console.log(`page problems (${problems.length}):`);
    const seen = new Set();
    for (const p of problems) {
        const k = `${p.kind} ${p.text}`;
        if (seen.has(k)) continue;
        seen.add(k);
        console.log(`  ${p.kind}: ${p.text}  [first in: ${p.test}]`);
    }
} else console.log('page problems: none');
if (ignoredCount) console.log(`(ignored ${ignoredCount} expected learn.json 404s from todomvc-common/base.js)`);
if (flags.verbose) for (const k of new Set(served.filter(([s]) => s !== 200).map(([s, u]) => `${s} ${u}`))) console.log(`  served ${k}`);

console.log(`\n${app}: ${pass} passed, ${fail} failed, ${skip} skipped${notRun ? `, ${notRun} not run` : ''}${problems.length ? `, ${problems.length} page problems` : ''}`);
if (flags.json) {
    await fsp.writeFile(flags.json, JSON.stringify({ app, root: ROOT, page: PAGE, results, notRun, problems, ignoredCount }, null, 2));
}
process.exit(fail || notRun || problems.length ? 1 : 0);

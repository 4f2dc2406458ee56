#!/usr/bin/env node
// Headless-Chromium asset-loading / SRI checker for prebake's integration tests.
//
// Usage:
//   node tests/browser/check.mjs --dir <dir> --base /assets/ --page index.html
//        [--expect-blocked <substring>]
//
// Serves <dir> under URL prefix <base> from a loopback HTTP server (127.0.0.1,
// random port), opens http://127.0.0.1:PORT<base><page> in headless Chromium
// (/usr/bin/chromium, or $PREBAKE_CHROMIUM) through playwright-core, waits for
// `load`, network idle and `document.fonts.ready`, then prints ONE JSON object
// on stdout:
//
//   { ok, failedRequests, badStatus, consoleErrors, pageErrors, integrityErrors,
//     externalRequests, brokenImages, fontsNotLoaded, stylesheetsWithoutSheet,
//     backgroundsNotLoaded, resources, scriptRan, mode, tamper? }
//
//   failedRequests          `requestfailed` events (aborted external requests excluded)
//   badStatus               responses with HTTP status >= 400
//   consoleErrors           console messages of type "error" (includes Chromium's own
//                           "Failed to load resource" / SRI messages)
//   pageErrors              uncaught exceptions (`pageerror`)
//   integrityErrors         console messages / page errors mentioning "integrity"
//                           (Chromium: "Failed to find a valid digest in the
//                           'integrity' attribute for resource '<url>' ...")
//   externalRequests        requests to anything but the loopback server; they are
//                           aborted and must never happen
//   brokenImages            <img> not `complete && naturalWidth > 0`
//   fontsNotLoaded          FontFaces in document.fonts whose status != "loaded".
//                           NB: Chromium only fetches a @font-face that some rendered
//                           text uses; an unused face stays "unloaded" and is listed.
//   stylesheetsWithoutSheet <link rel=stylesheet> whose `.sheet` is null (blocked/failed)
//   backgroundsNotLoaded    url()s of the computed background-image of elements with a
//                           `data-bg` attribute that have no resource-timing entry
//                           with a 2xx/3xx status
//   resources               performance resource-timing entries (fetched URLs),
//                           same-origin ones as "/path?query"; informational
//   scriptRan               document.documentElement.dataset.prebakeRan (or null)
//
// Pass/fail criteria:
//   normal mode: ok = every list above except `resources` is empty
//                     && scriptRan === "1".
//   tamper mode (--expect-blocked S; the caller has changed a byte of the asset
//   whose URL contains S): ok = externalRequests is empty && the tampering was
//   detected by at least one of
//     (a) an integrityErrors message containing S,
//     (b) a failedRequests entry whose URL contains S,
//     (c) S matches the src of a <script src> on the page && scriptRan !== "1".
//   `tamper.detectedBy` lists which of these fired.
//
// Exit code: 0 ok, 1 not ok, 2 harness failure (bad arguments, Chromium or
// playwright-core missing, navigation error, 60 s overall timeout); harness
// failures print a message on stderr and no JSON.
//
// The server sends `X-Content-Type-Options: nosniff`, so a wrong Content-Type
// on a script or stylesheet is a (deliberate) failure, as on a real CDN.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const OVERALL_TIMEOUT_MS = 60_000;
const NAV_TIMEOUT_MS = 30_000;
const IDLE_TIMEOUT_MS = 15_000;

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.gif': 'image/gif',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

class HarnessError extends Error {}

function fail(msg) {
  process.stderr.write(`check.mjs: ${msg}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- arguments
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      dir: { type: 'string' },
      base: { type: 'string', default: '/' },
      page: { type: 'string', default: 'index.html' },
      'expect-blocked': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  fail(`${e.message}\nusage: node check.mjs --dir <dir> --base /assets/ --page index.html [--expect-blocked <substring>]`);
}
if (!opts.dir) fail('--dir is required');
const root = path.resolve(opts.dir);
if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) fail(`--dir ${root} is not a directory`);
let base = opts.base;
if (!base.startsWith('/')) base = '/' + base;
if (!base.endsWith('/')) base += '/';
const pageRel = opts.page.replace(/^\/+/, '');
const expectBlocked = opts['expect-blocked'];
if (expectBlocked !== undefined && expectBlocked === '') fail('--expect-blocked needs a non-empty substring');
const chromiumPath = process.env.PREBAKE_CHROMIUM || '/usr/bin/chromium';

// ------------------------------------------------------------ static server
function resolveUrlPath(urlPath) {
  // Returns an absolute file path inside root, or null (-> 404), or throws 'traversal'.
  if (!urlPath.startsWith(base)) return null;
  let rel;
  try {
    rel = decodeURIComponent(urlPath.slice(base.length));
  } catch {
    return null;
  }
  if (rel.includes('\0') || rel.includes('\\')) throw new Error('traversal');
  const segments = rel.split('/');
  if (segments.some((s) => s === '..')) throw new Error('traversal');
  const file = path.resolve(root, rel);
  if (file !== root && !file.startsWith(root + path.sep)) throw new Error('traversal');
  return file;
}

function serve(req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  let pathname;
  try {
    pathname = new URL(req.url, 'http://127.0.0.1').pathname;
  } catch {
    res.writeHead(400).end();
    return;
  }
  let file;
  try {
    file = resolveUrlPath(pathname);
  } catch {
    res.writeHead(403, { 'Content-Type': 'text/plain' }).end('forbidden\n');
    return;
  }
  let st;
  try {
    st = file && fs.realpathSync(file).startsWith(fs.realpathSync(root) + path.sep) && fs.statSync(file);
  } catch {
    st = null;
  }
  if (!st || !st.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const type = MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': st.size,
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

// ------------------------------------------------------------------- main
let server = null;
let browser = null;

async function cleanup() {
  const b = browser;
  browser = null;
  if (b) {
    await Promise.race([b.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  }
  const s = server;
  server = null;
  if (s) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(() => r()));
  }
}

let timedOut = false;
const overall = setTimeout(async () => {
  timedOut = true;
  process.stderr.write(`check.mjs: overall timeout of ${OVERALL_TIMEOUT_MS / 1000}s exceeded\n`);
  await cleanup();
  process.exit(2);
}, OVERALL_TIMEOUT_MS);

async function main() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new HarnessError(`cannot load playwright-core (${e.code || e.message}); run tests/setup.sh`);
  }
  try {
    fs.accessSync(chromiumPath, fs.constants.X_OK);
  } catch {
    throw new HarnessError(`Chromium not found/executable at ${chromiumPath}; run tests/setup.sh or set PREBAKE_CHROMIUM`);
  }
  if (!fs.existsSync(path.join(root, pageRel))) {
    throw new HarnessError(`page ${path.join(root, pageRel)} does not exist`);
  }

  server = http.createServer(serve);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const pageUrl = origin + base + pageRel.split('/').map(encodeURIComponent).join('/');

  const out = {
    ok: false,
    mode: expectBlocked === undefined ? 'normal' : 'tamper',
    url: pageUrl,
    failedRequests: [],
    badStatus: [],
    consoleErrors: [],
    pageErrors: [],
    integrityErrors: [],
    externalRequests: [],
    brokenImages: [],
    fontsNotLoaded: [],
    stylesheetsWithoutSheet: [],
    backgroundsNotLoaded: [],
    resources: [],
    scriptRan: null,
  };
  const rel = (u) => (u.startsWith(origin + '/') ? u.slice(origin.length) : u);
  const blocked = new Set();

  try {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: NAV_TIMEOUT_MS,
    });
  } catch (e) {
    throw new HarnessError(`failed to launch Chromium at ${chromiumPath}: ${e.message.split('\n')[0]}`);
  }
  // Plain launch: Playwright gives the browser a fresh temporary profile dir
  // and removes it on close.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  await context.route('**/*', (route) => {
    const u = route.request().url();
    let allowed = false;
    try {
      allowed = new URL(u).origin === origin;
    } catch {}
    if (allowed) return route.continue();
    blocked.add(u);
    out.externalRequests.push(u);
    return route.abort('blockedbyclient');
  });
  await context.addInitScript(() => {
    try {
      performance.setResourceTimingBufferSize(100000);
    } catch {}
  });

  const page = await context.newPage();
  const noteIntegrity = (text) => {
    if (/integrity/i.test(text)) out.integrityErrors.push(text);
  };
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error') {
      const loc = msg.location();
      out.consoleErrors.push(loc && loc.url ? `${text} (at ${rel(loc.url)}:${loc.lineNumber})` : text);
    }
    noteIntegrity(text);
  });
  page.on('pageerror', (err) => {
    const text = err && err.message ? err.message : String(err);
    out.pageErrors.push(text);
    noteIntegrity(text);
  });
  page.on('requestfailed', (req) => {
    if (blocked.has(req.url())) return;
    out.failedRequests.push({
      url: rel(req.url()),
      resourceType: req.resourceType(),
      error: req.failure()?.errorText ?? 'unknown',
    });
  });
  page.on('response', (resp) => {
    if (resp.status() >= 400) {
      out.badStatus.push({ url: rel(resp.url()), status: resp.status() });
    }
  });

  try {
    await page.goto(pageUrl, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
  } catch (e) {
    throw new HarnessError(`navigation to ${pageUrl} failed: ${e.message.split('\n')[0]}`);
  }
  try {
    await page.waitForLoadState('networkidle', { timeout: IDLE_TIMEOUT_MS });
  } catch (e) {
    throw new HarnessError(`page never reached network idle: ${e.message.split('\n')[0]}`);
  }

  const found = await page.evaluate(async () => {
    await document.fonts.ready;
    const abs = (u) => new URL(u, document.baseURI).href;
    const relo = (u) => {
      try {
        const x = new URL(u, document.baseURI);
        return x.origin === location.origin ? x.pathname + x.search : x.href;
      } catch {
        return String(u);
      }
    };

    const entries = performance.getEntriesByType('resource');
    const okFetched = new Set();
    const resources = [];
    for (const e of entries) {
      const r = relo(e.name);
      if (!resources.includes(r)) resources.push(r);
      // responseStatus is 0 when unknown (e.g. cross-origin); treat 0 as fetched.
      const st = typeof e.responseStatus === 'number' ? e.responseStatus : 0;
      if (st === 0 || (st >= 200 && st < 400)) okFetched.add(abs(e.name));
    }

    const brokenImages = [...document.images]
      .filter((img) => !(img.complete && img.naturalWidth > 0))
      .map((img) => relo(img.currentSrc || img.src || img.getAttribute('src') || ''));

    const fontsNotLoaded = [];
    for (const f of document.fonts) {
      if (f.status !== 'loaded') {
        fontsNotLoaded.push({ family: f.family, status: f.status, weight: f.weight, style: f.style });
      }
    }

    const stylesheetsWithoutSheet = [...document.querySelectorAll('link[rel~="stylesheet" i]')]
      .filter((l) => !l.disabled && l.sheet === null)
      .map((l) => relo(l.href));

    const backgroundsNotLoaded = [];
    for (const el of document.querySelectorAll('[data-bg]')) {
      const bg = getComputedStyle(el).backgroundImage;
      const urls = [...bg.matchAll(/url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)\s]*))\s*\)/g)]
        .map((m) => m[1] ?? m[2] ?? m[3])
        .filter((u) => u && !u.startsWith('data:'));
      const desc = el.id ? `#${el.id}` : el.tagName.toLowerCase() + (el.className ? `.${String(el.className).trim().split(/\s+/).join('.')}` : '');
      if (urls.length === 0) {
        backgroundsNotLoaded.push({ element: desc, url: null, reason: `no url() in background-image: ${bg}` });
        continue;
      }
      for (const u of urls) {
        if (!okFetched.has(abs(u))) backgroundsNotLoaded.push({ element: desc, url: relo(u), reason: 'not fetched' });
      }
    }

    const scripts = [...document.querySelectorAll('script[src]')].map((s) => s.src);
    const ran = document.documentElement.dataset.prebakeRan;
    return {
      resources,
      brokenImages,
      fontsNotLoaded,
      stylesheetsWithoutSheet,
      backgroundsNotLoaded,
      scripts,
      scriptRan: ran === undefined ? null : ran,
    };
  });

  Object.assign(out, {
    resources: found.resources,
    brokenImages: found.brokenImages,
    fontsNotLoaded: found.fontsNotLoaded,
    stylesheetsWithoutSheet: found.stylesheetsWithoutSheet,
    backgroundsNotLoaded: found.backgroundsNotLoaded,
    scriptRan: found.scriptRan,
  });

  if (expectBlocked === undefined) {
    const lists = [
      'failedRequests', 'badStatus', 'consoleErrors', 'pageErrors', 'integrityErrors',
      'externalRequests', 'brokenImages', 'fontsNotLoaded', 'stylesheetsWithoutSheet',
      'backgroundsNotLoaded',
    ];
    out.ok = lists.every((k) => out[k].length === 0) && out.scriptRan === '1';
  } else {
    const detectedBy = [];
    if (out.integrityErrors.some((m) => m.includes(expectBlocked))) detectedBy.push('integrityError');
    if (out.failedRequests.some((r) => r.url.includes(expectBlocked))) detectedBy.push('requestFailed');
    const isScript = found.scripts.some((s) => s.includes(expectBlocked));
    if (isScript && out.scriptRan !== '1') detectedBy.push('scriptDidNotRun');
    out.tamper = { substring: expectBlocked, isScript, detectedBy };
    out.ok = detectedBy.length > 0 && out.externalRequests.length === 0;
  }
  return out;
}

let code = 2;
try {
  const out = await main();
  process.stdout.write(JSON.stringify(out) + '\n');
  code = out.ok ? 0 : 1;
} catch (e) {
  // After the overall timeout the browser is closed under main()'s feet; the
  // timer handler has already reported it and exits with 2.
  if (!timedOut) process.stderr.write(`check.mjs: ${e instanceof HarnessError ? e.message : (e && e.stack) || e}\n`);
  code = 2;
} finally {
  if (!timedOut) {
    await cleanup();
    clearTimeout(overall);
  }
}
if (!timedOut) process.exit(code);

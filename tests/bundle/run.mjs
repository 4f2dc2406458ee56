#!/usr/bin/env node
// Execution tests for prebake's JS bundler: bundles must BEHAVE like their
// sources, not merely build.
//
//   node tests/bundle/run.mjs --prebake <path-to-prebake> [--filter <substr>]
//                             [--browser] [--keep] [--verbose]
//
// 1. Semantic cases, fixtures/bundle-exec/<case>/ (entry main.js, ground truth
//    expected.txt = stdout of `node main.js` on the original sources, made by
//    fixtures/bundle-exec/bless.sh; or entry main.ts, whose ground truth is
//    esbuild's unminified bundle run under node). Each case is built twice, minified and
//    with --no-minify:
//      prebake build --no-config --root <case> --out <tmp> --entry main.js
//    then {"type":"module"} is written to <tmp>/package.json and
//    `node <tmp>/<manifest.assets["main.js"].file>` must print expected.txt
//    exactly and exit 0.
// 2. Real packages, tests/bundle/entries/<name>.js, importing from
//    tests/bundle/node_modules (installed by tests/setup.sh from
//    tests/bundle/package-lock.json). Each is bundled by prebake (minified,
//    root tests/bundle, manifest name `entries/<name>.js`) and by esbuild
//    (bundle, esm, minify, platform browser); both bundles run under node and
//    must print the same stdout, including the name of any exception that
//    escapes (the bundle is imported by a tiny wrapper that prints
//    `uncaught: <constructor name>`). Sizes and gzip -9 sizes of both are
//    printed side by side, for information only.
// 3. --browser: each real-package bundle (prebake's and esbuild's) is also
//    loaded as a module script in headless Chromium (/usr/bin/chromium or
//    $PREBAKE_CHROMIUM, driven by tests/browser/node_modules/playwright-core)
//    from a loopback HTTP server; its console output must equal the node run.
//
// Hidden: --esbuild-only builds the "prebake" side with esbuild instead
// (code splitting on, same output layout), to validate the harness and the
// fixtures before prebake can bundle.
//
// Prints one `ok`/`FAIL` line per check, details under failures, and a
// closing `N passed, N failed` line. Exit code: 0 all passed, 1 some check
// failed, 2 harness error (bad arguments, missing node_modules, ...).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const casesDir = path.join(repo, 'fixtures/bundle-exec');
const entriesDir = path.join(here, 'entries');

const BUILD_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 30_000;
const BROWSER_PAGE_TIMEOUT_MS = 30_000;
const MAX_DETAIL_LINES = 60;

let tmpToRemove = null;
function harnessError(msg) {
  process.stderr.write(`run.mjs: ${msg}\n`);
  if (tmpToRemove && !opts?.keep) fs.rmSync(tmpToRemove, { recursive: true, force: true });
  process.exit(2);
}

// ---------------------------------------------------------------- arguments
let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      prebake: { type: 'string' },
      filter: { type: 'string' },
      browser: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      'esbuild-only': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  harnessError(`${e.message}\nusage: node tests/bundle/run.mjs --prebake <binary> [--filter <substr>] [--browser] [--keep] [--verbose]`);
}
const esbuildOnly = opts['esbuild-only'];
let prebakeBin = null;
if (!esbuildOnly) {
  if (!opts.prebake) harnessError('--prebake <path-to-binary> is required');
  prebakeBin = path.resolve(opts.prebake);
  try {
    fs.accessSync(prebakeBin, fs.constants.X_OK);
  } catch {
    harnessError(`--prebake ${prebakeBin} is not an executable file`);
  }
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch (e) {
  harnessError(`cannot load esbuild from tests/bundle/node_modules (${e.code || e.message}); run tests/setup.sh`);
}

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'prebake-bundle-exec-'));
tmpToRemove = tmpRoot;
let tmpCounter = 0;
function freshDir(label) {
  const d = path.join(tmpRoot, `${String(++tmpCounter).padStart(3, '0')}-${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

// A wrapper that imports a bundle and reports an escaping exception on stdout,
// so that "same output" also means "same exception".
const wrapperPath = path.join(tmpRoot, 'import-wrapper.mjs');
fs.writeFileSync(
  wrapperPath,
  `import { pathToFileURL } from 'node:url';
const name = (e) => (e !== null && typeof e === 'object' && e.constructor ? e.constructor.name : typeof e);
process.on('unhandledRejection', (e) => {
  console.log('unhandled rejection: ' + name(e));
  process.exitCode = 1;
});
try {
  await import(pathToFileURL(process.argv[2]).href);
} catch (e) {
  console.log('uncaught: ' + name(e));
  process.exitCode = 1;
}
// Some browser builds keep the event loop alive for ever (react-dom/server's
// browser build opens a MessageChannel at load time): give pending work a
// moment, then leave. Unref'd, so a program that finishes exits at once.
setTimeout(() => process.exit(), 1000).unref();
`,
);

// ------------------------------------------------------------------ checks
const results = [];

function report(name, ok, details = []) {
  results.push({ name, ok });
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}\n`);
  if (!ok || opts.verbose) {
    let lines = details.flatMap((d) => String(d).replace(/\n+$/, '').split('\n'));
    if (lines.length > MAX_DETAIL_LINES) {
      const n = lines.length - MAX_DETAIL_LINES;
      lines = [...lines.slice(0, MAX_DETAIL_LINES), `... (${n} more lines)`];
    }
    for (const l of lines) process.stdout.write(`       ${l}\n`);
  }
}

const selected = (name) => !opts.filter || name.includes(opts.filter);

function tail(s, n = 20) {
  const lines = String(s || '').replace(/\n+$/, '').split('\n');
  return lines.length > n ? ['...', ...lines.slice(-n)].join('\n') : lines.join('\n');
}

// A line diff (LCS), printed unified-style with a few lines of context.
function diffLines(expected, actual, context = 3) {
  const lines = (t) => {
    if (t === '') return [];
    const l = t.split('\n');
    if (l[l.length - 1] === '') l.pop();
    else l.push('\\ No newline at end of output');
    return l;
  };
  const a = lines(expected);
  const b = lines(actual);
  const n = a.length;
  const m = b.length;
  if (n * m > 4_000_000) {
    return [`(outputs too long to diff: ${n} vs ${m} lines)`];
  }
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push([' ', a[i]]);
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push(['+', b[j]]);
      j++;
    } else {
      ops.push(['-', a[i]]);
      i++;
    }
  }
  const keep = ops.map(() => false);
  ops.forEach(([k], idx) => {
    if (k === ' ') return;
    for (let d = Math.max(0, idx - context); d <= Math.min(ops.length - 1, idx + context); d++) keep[d] = true;
  });
  const out = ['--- expected', '+++ actual'];
  let skipped = false;
  ops.forEach(([k, line], idx) => {
    if (!keep[idx]) {
      if (!skipped) out.push('@@');
      skipped = true;
      return;
    }
    skipped = false;
    out.push(`${k}${line}`);
  });
  return out;
}

function run(cmd, args, { cwd, timeout, env } = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    timeout,
    env: { ...process.env, NO_COLOR: '1', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: r.status,
    signal: r.signal,
    timedOut: r.error?.code === 'ETIMEDOUT',
    error: r.error && r.error.code !== 'ETIMEDOUT' ? r.error.message : null,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
  };
}

function describeExit(r) {
  if (r.timedOut) return 'timed out';
  if (r.error) return `failed to start: ${r.error}`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.code}`;
}

// ------------------------------------------------------------------ builders
// A build yields { outDir, entryFile, files } (files: every emitted .js file)
// or { error: [detail lines] }.

function jsFilesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (/\.m?js$/.test(ent.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

function buildWithPrebake({ root, entry, minify, label }) {
  const outDir = freshDir(`prebake-${label}`);
  // Only the entry is a source of the build: the other entries beside it
  // are not part of this bundle (and would be compiled on their own).
  const args = ['build', '--no-config', '--root', root, '--out', outDir, '--entry', entry, '--include', entry];
  if (!minify) args.push('--no-minify');
  const r = run(prebakeBin, args, { cwd: repo, timeout: BUILD_TIMEOUT_MS });
  const cmdLine = `$ prebake ${args.join(' ')}`;
  if (r.code !== 0) {
    return { error: [cmdLine, `prebake ${describeExit(r)}`, tail(r.stderr), tail(r.stdout)].filter(Boolean) };
  }
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));
  } catch (e) {
    return { error: [cmdLine, `cannot read ${outDir}/manifest.json: ${e.message}`] };
  }
  const asset = manifest?.assets?.[entry];
  if (!asset || typeof asset.file !== 'string') {
    return { error: [cmdLine, `manifest.json has no assets[${JSON.stringify(entry)}].file`, JSON.stringify(manifest).slice(0, 2000)] };
  }
  const entryFile = path.join(outDir, asset.file);
  if (!fs.existsSync(entryFile)) return { error: [cmdLine, `manifest names ${asset.file}, which was not written`] };
  fs.writeFileSync(path.join(outDir, 'package.json'), '{"type":"module"}\n');
  return { outDir, entryFile, files: jsFilesUnder(outDir), warnings: r.stderr.trim() };
}

async function buildWithEsbuild({ root, entry, minify, label, splitting }) {
  const outDir = freshDir(`esbuild-${label}`);
  try {
    const res = await esbuild.build({
      absWorkingDir: root,
      entryPoints: [path.join(root, entry)],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      minify,
      splitting,
      outdir: outDir,
      entryNames: '[name]-[hash]',
      chunkNames: 'chunks/[name]-[hash]',
      // prebake's build defines this by default; esbuild does too when
      // minifying for the browser, but say it either way.
      define: { 'process.env.NODE_ENV': '"production"' },
      metafile: true,
      write: true,
      logLevel: 'silent',
    });
    const entryOut = Object.entries(res.metafile.outputs).find(([, o]) => o.entryPoint);
    if (!entryOut) return { error: ['esbuild produced no entry output'] };
    fs.writeFileSync(path.join(outDir, 'package.json'), '{"type":"module"}\n');
    const warnings = res.warnings.map((w) => `esbuild warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
    return {
      outDir,
      entryFile: path.resolve(root, entryOut[0]),
      files: jsFilesUnder(outDir),
      warnings: warnings.join('\n'),
    };
  } catch (e) {
    const errs = (e.errors || []).map((x) => `${x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ` : ''}${x.text}`);
    return { error: ['esbuild failed', ...(errs.length ? errs : [e.message])] };
  }
}

// The bundler under test: prebake, or (--esbuild-only) esbuild with splitting.
const candidateName = esbuildOnly ? 'esbuild-as-prebake' : 'prebake';
function buildCandidate(o) {
  return esbuildOnly ? buildWithEsbuild({ ...o, splitting: true }) : Promise.resolve(buildWithPrebake(o));
}

// ------------------------------------------------------------ semantic cases
function semanticCases() {
  if (!fs.existsSync(casesDir)) harnessError(`${casesDir} does not exist`);
  return fs
    .readdirSync(casesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && caseEntry(d.name))
    .map((d) => d.name)
    .sort();
}

// The case's entry: main.js, or main.ts for TypeScript cases (decorators,
// tsconfig.json options), whose expected.txt esbuild's build gave.
function caseEntry(caseName) {
  return ['main.js', 'main.ts'].find((f) => fs.existsSync(path.join(casesDir, caseName, f)));
}

async function runSemanticCase(caseName, minify) {
  const name = `exec/${caseName} [${minify ? 'minified' : 'no-minify'}]`;
  if (!selected(name)) return;
  const root = path.join(casesDir, caseName);
  const expectedPath = path.join(root, 'expected.txt');
  if (!fs.existsSync(expectedPath)) {
    report(name, false, [`${expectedPath} is missing: run fixtures/bundle-exec/bless.sh ${caseName}`]);
    return;
  }
  const expected = fs.readFileSync(expectedPath, 'utf8');
  const built = await buildCandidate({ root, entry: caseEntry(caseName), minify, label: `${caseName}-${minify ? 'min' : 'nomin'}` });
  if (built.error) {
    report(name, false, [`${candidateName} build failed:`, ...built.error]);
    return;
  }
  const r = run(process.execPath, [built.entryFile], { cwd: built.outDir, timeout: RUN_TIMEOUT_MS });
  const details = [`$ node ${built.entryFile}`];
  let ok = true;
  if (r.code !== 0) {
    ok = false;
    details.push(`node ${describeExit(r)}`, 'stderr:', tail(r.stderr));
  }
  if (r.stdout !== expected) {
    ok = false;
    details.push('stdout differs from expected.txt:', ...diffLines(expected, r.stdout));
  }
  if (opts.verbose && built.warnings) details.push(built.warnings);
  report(name, ok, details);
}

// ----------------------------------------------------------- real packages
function packageEntries() {
  return fs
    .readdirSync(entriesDir)
    .filter((f) => f.endsWith('.js'))
    .sort();
}

function runBundle(built) {
  const r = run(process.execPath, [wrapperPath, built.entryFile], { cwd: built.outDir, timeout: RUN_TIMEOUT_MS });
  return r;
}

function sizes(files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const buf = fs.readFileSync(f);
    raw += buf.length;
    gz += zlib.gzipSync(buf, { level: 9 }).length;
  }
  return { raw, gz, count: files.length };
}

const sizeRows = [];
const browserJobs = [];

async function runPackageEntry(file) {
  const base = file.replace(/\.js$/, '');
  const name = `package/${base}`;
  if (!selected(name) && !(opts.browser && selected(`browser/${base}`))) return;
  const entry = `entries/${file}`;
  const [cand, ref] = await Promise.all([
    buildCandidate({ root: here, entry, minify: true, label: base }),
    buildWithEsbuild({ root: here, entry, minify: true, label: `${base}-ref`, splitting: false }),
  ]);
  if (ref.error) {
    report(name, false, ['reference esbuild build failed (harness or package problem):', ...ref.error]);
    return;
  }
  if (cand.error) {
    report(name, false, [`${candidateName} build failed:`, ...cand.error]);
    sizeRows.push({ name: base, cand: null, ref: sizes(ref.files) });
    return;
  }
  const rc = runBundle(cand);
  const rr = runBundle(ref);
  const details = [];
  let ok = true;
  if (rr.timedOut || rr.signal || rr.error || rr.stdout.trim() === '') {
    ok = false;
    details.push(`reference (esbuild) run is unusable: ${describeExit(rr)}`, tail(rr.stderr));
  }
  if (rc.timedOut || rc.signal || rc.error) {
    ok = false;
    details.push(`${candidateName} bundle: ${describeExit(rc)}`);
  }
  const exc = (s) => (s.match(/^(?:uncaught|unhandled rejection): (.*)$/m) || [])[1] ?? 'none';
  if (exc(rc.stdout) !== exc(rr.stdout)) {
    ok = false;
    details.push(`thrown exception differs: ${candidateName}: ${exc(rc.stdout)}, esbuild: ${exc(rr.stdout)}`);
  }
  if (rc.stdout !== rr.stdout) {
    ok = false;
    details.push(`stdout differs (expected = esbuild bundle, actual = ${candidateName} bundle):`, ...diffLines(rr.stdout, rc.stdout));
  }
  if (!ok) details.push(`${candidateName} stderr:`, tail(rc.stderr, 10));
  if (opts.verbose) details.push(cand.warnings || '', ref.warnings || '');
  report(name, ok, details);
  sizeRows.push({ name: base, cand: sizes(cand.files), ref: sizes(ref.files) });
  browserJobs.push({ base, side: candidateName, built: cand, nodeStdout: rc.stdout });
  browserJobs.push({ base, side: 'esbuild', built: ref, nodeStdout: rr.stdout });
}

function printSizes() {
  if (sizeRows.length === 0) return;
  const fmt = (s) => (s ? `${s.raw} / ${s.gz}${s.count > 1 ? ` (${s.count} files)` : ''}` : 'n/a');
  const w0 = Math.max(8, ...sizeRows.map((r) => r.name.length));
  const rows = sizeRows.map((r) => [r.name, fmt(r.cand), fmt(r.ref), r.cand ? `${((r.cand.gz / r.ref.gz) * 100).toFixed(1)}%` : '']);
  const w1 = Math.max(candidateName.length, ...rows.map((r) => r[1].length));
  const w2 = Math.max(7, ...rows.map((r) => r[2].length));
  process.stdout.write(`\nbundle sizes, bytes raw / gzip -9 (information only):\n`);
  process.stdout.write(`  ${'package'.padEnd(w0)}  ${candidateName.padStart(w1)}  ${'esbuild'.padStart(w2)}  gzip ratio\n`);
  for (const r of rows) {
    process.stdout.write(`  ${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2].padStart(w2)}  ${r[3]}\n`);
  }
  process.stdout.write('\n');
}

// ----------------------------------------------------------------- browser
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.css': 'text/css; charset=utf-8',
};

// The page imports the bundle the way the node wrapper does, then says done.
const PAGE = (entryUrl) => `<!doctype html>
<meta charset="utf-8">
<title>prebake bundle-exec</title>
<script type="module">
const name = (e) => (e !== null && typeof e === 'object' && e.constructor ? e.constructor.name : typeof e);
addEventListener('unhandledrejection', (ev) => console.log('unhandled rejection: ' + name(ev.reason)));
try {
  await import(${JSON.stringify(entryUrl)});
} catch (e) {
  console.log('uncaught: ' + name(e));
}
setTimeout(() => console.log('__bundle_exec_done__'), 50);
</script>
`;

async function runBrowserLeg() {
  const jobs = browserJobs;
  if (jobs.length === 0) return;
  const chromiumPath = process.env.PREBAKE_CHROMIUM || '/usr/bin/chromium';
  let chromium;
  try {
    const require = createRequire(path.join(repo, 'tests/browser/package.json'));
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    harnessError(`--browser needs tests/browser/node_modules/playwright-core (${e.code || e.message}); run tests/setup.sh`);
  }
  try {
    fs.accessSync(chromiumPath, fs.constants.X_OK);
  } catch {
    harnessError(`--browser needs Chromium at ${chromiumPath}; run tests/setup.sh or set PREBAKE_CHROMIUM`);
  }

  const served = path.resolve(tmpRoot);
  const server = http.createServer((req, res) => {
    let file;
    try {
      const p = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
      file = path.resolve(served, '.' + p);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!file.startsWith(served + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'Content-Type': MIME[path.extname(file).toLowerCase()] || 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: BROWSER_PAGE_TIMEOUT_MS,
    });
  } catch (e) {
    server.close();
    harnessError(`failed to launch Chromium at ${chromiumPath}: ${e.message.split('\n')[0]}`);
  }
  try {
    for (const job of jobs) {
      const name = `browser/${job.base} [${job.side}]`;
      const pageFile = path.join(job.built.outDir, '__bundle_exec__.html');
      const entryRel = path.relative(job.built.outDir, job.built.entryFile).split(path.sep).join('/');
      fs.writeFileSync(pageFile, PAGE(`./${entryRel}`));
      const pageUrl = origin + '/' + path.relative(served, pageFile).split(path.sep).map(encodeURIComponent).join('/');
      const context = await browser.newContext({ serviceWorkers: 'block' });
      await context.route('**/*', (route) => (new URL(route.request().url()).origin === origin ? route.continue() : route.abort('blockedbyclient')));
      const page = await context.newPage();
      const lines = [];
      const problems = [];
      let resolveDone;
      const done = new Promise((r) => (resolveDone = r));
      page.on('console', (msg) => {
        const text = msg.text();
        if (text === '__bundle_exec_done__') resolveDone(true);
        else if (msg.type() === 'log' || msg.type() === 'info') lines.push(text);
        else if (msg.type() === 'error') problems.push(`console.error: ${text}`);
        else lines.push(text);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
      let finished = false;
      try {
        await page.goto(pageUrl, { waitUntil: 'load', timeout: BROWSER_PAGE_TIMEOUT_MS });
        finished = await Promise.race([done, new Promise((r) => setTimeout(() => r(false), BROWSER_PAGE_TIMEOUT_MS))]);
      } catch (e) {
        problems.push(`navigation failed: ${e.message.split('\n')[0]}`);
      }
      await context.close();
      const stdout = lines.map((l) => l + '\n').join('');
      const details = [`page ${pageUrl}`];
      let ok = finished && problems.length === 0;
      if (!finished) details.push('the page never finished (timeout or navigation error)');
      details.push(...problems);
      if (stdout !== job.nodeStdout) {
        ok = false;
        details.push('console output differs (expected = node run of the same bundle, actual = Chromium):', ...diffLines(job.nodeStdout, stdout));
      }
      report(name, ok, details);
    }
  } finally {
    await browser.close().catch(() => {});
    server.closeAllConnections?.();
    await new Promise((r) => server.close(() => r()));
  }
}

// -------------------------------------------------------------------- main
const started = Date.now();
process.stdout.write(
  `bundle-exec: ${esbuildOnly ? 'esbuild in place of prebake (--esbuild-only)' : prebakeBin}, node ${process.version}, esbuild ${esbuild.version}\n`,
);
try {
  for (const c of semanticCases()) {
    for (const minify of [true, false]) await runSemanticCase(c, minify);
  }
  for (const f of packageEntries()) await runPackageEntry(f);
  printSizes();
  if (opts.browser) await runBrowserLeg();
} finally {
  if (opts.keep) process.stdout.write(`kept build outputs in ${tmpRoot}\n`);
  else fs.rmSync(tmpRoot, { recursive: true, force: true });
  esbuild.stop?.();
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
if (results.length === 0) {
  process.stdout.write(`no check matched --filter ${JSON.stringify(opts.filter)}\n`);
  process.exit(2);
}
process.stdout.write(`bundle-exec: ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);

// The npm package works in a fresh Vite 7 app set up with the README's steps only: `npm pack` of
// p2panda-wasm/pkg, `npm install ./p2panda-*.tgz` next to vite, the documented vite.config.js,
// and `import { openNode } from 'p2panda'` (plus the low-level 'p2panda/p2panda_wasm.js'). Both the production build (served statically) and
// the dev server must load the node's Worker and WebAssembly: the page shows a festival and a
// resource that went through the worker's store.
//
// Packages come from npm's cache when it has them (`--prefer-offline`), so after
// `scripts/setup.sh` this also runs inside the loopback-only network namespace.
// P2PANDA_PKG=DIR tests another build of the package instead of p2panda-wasm/pkg.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { launchBrowser, ROOT } from './harness.mjs';
import { serve } from '../../scripts/serve.mjs';

const PKG = process.env.P2PANDA_PKG ?? join(ROOT, 'p2panda-wasm', 'pkg');
const PKG_FILES = ['package.json', 'index.js', 'worker.js', 'p2panda_wasm.js', 'p2panda_wasm_bg.wasm'];

// Exactly the config the README's "Use with Vite" section documents.
const VITE_CONFIG = `import { defineConfig } from 'vite';

export default defineConfig({
  // Serve p2panda unbundled in dev, so its worker.js and .wasm are found next to index.js.
  optimizeDeps: { exclude: ['p2panda'] },
});
`;

const PACKAGE_JSON = {
  name: 'p2panda-vite-app',
  private: true,
  type: 'module',
  scripts: { dev: 'vite', build: 'vite build' },
  devDependencies: { vite: '7.3.8' },
};

const INDEX_HTML = `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <link rel="icon" href="data:," />
    <title>loading</title>
  </head>
  <body>
    <ul id="out"></ul>
    <script type="module" src="/main.js"></script>
  </body>
</html>
`;

// What an app author writes: open a node, create a festival and a resource, read them back
// (from the worker's IndexedDB store) and show them; sign and verify with the low-level exports.
const MAIN_JS = `import { openNode } from 'p2panda';
import { KeyPair, verifySignature } from 'p2panda/p2panda_wasm.js';

const out = document.querySelector('#out');
function show(id, text) {
  const li = document.createElement('li');
  li.id = id;
  li.textContent = text;
  out.append(li);
}

try {
  const node = await openNode({ name: 'vite-app', broadcastChannel: false });
  const festival = await node.createFestival({ name: 'Vite fest', description: 'bundled' });
  const stage = await node.createResource(festival, {
    name: 'Main stage',
    kind: { type: 'location', address: 'Field 1' },
  });
  const stored = (await node.festivals()).find((f) => f.id === festival);
  const resource = await node.resource(festival, stage);
  show('festival', stored.name);
  show('resource', resource.name + ' @ ' + resource.kind.address);
  // The low-level exports share the module openNode initialized.
  const keys = new KeyPair();
  const message = new TextEncoder().encode('hello');
  show('signature', String(verifySignature(keys.publicKey(), message, keys.sign(message))));
  document.title = 'ready';
} catch (error) {
  show('error', (error.code ?? error.name) + ': ' + error.message);
  document.title = 'failed';
}
`;

// npm/vite see no npm_* variables of an outer `npm test`, and no colors in their output.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
ENV.NO_COLOR = '1';

async function run(command, args, cwd) {
  try {
    return await promisify(execFile)(command, args, { cwd, env: ENV, maxBuffer: 16 << 20 });
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

let dir, app, browser;
before(async () => {
  const missing = PKG_FILES.filter((f) => !existsSync(join(PKG, f)));
  assert.deepEqual(missing, [], `p2panda-wasm/pkg is incomplete; run ./scripts/build-wasm.sh`);
  dir = mkdtempSync(join(tmpdir(), 'p2panda-vite-'));
  browser = await launchBrowser();

  const { stdout } = await run('npm', ['pack', PKG, '--pack-destination', dir, '--json'], dir);
  const [{ filename }] = JSON.parse(stdout);

  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify(PACKAGE_JSON, null, 2) + '\n');
  writeFileSync(join(app, 'index.html'), INDEX_HTML);
  writeFileSync(join(app, 'main.js'), MAIN_JS);
  writeFileSync(join(app, 'vite.config.js'), VITE_CONFIG);
  // Offline (the namespace) this needs vite in npm's cache, which the root `npm install` left there.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join('..', filename)], app);
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Open `url` in a fresh context; what the page shows, and what it loaded. */
async function visit(url) {
  const context = await browser.newContext();
  const wasm = [];
  const errors = [];
  context.on('response', (response) => {
    if (new URL(response.url()).pathname.endsWith('.wasm'))
      wasm.push({ status: response.status(), type: response.headers()['content-type'] });
  });
  try {
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.goto(url);
    await page.waitForFunction(() => document.title !== 'loading', null, { timeout: 30_000 }).catch((error) => {
      throw new Error(`${error.message}\npage errors:\n${errors.join('\n')}`);
    });
    const shown = await page.evaluate(() =>
      Object.fromEntries([...document.querySelectorAll('#out li')].map((li) => [li.id, li.textContent])),
    );
    const workers = page.workers().map((w) => new URL(w.url()).pathname);
    return { shown, wasm, workers, errors };
  } finally {
    await context.close();
  }
}

function assertNodeRan({ shown, wasm, workers, errors }) {
  const expected = { festival: 'Vite fest', resource: 'Main stage @ Field 1', signature: 'true' };
  assert.deepEqual(shown, expected, errors.join('\n'));
  // The page and the worker each instantiate the module.
  assert.ok(wasm.length >= 1, 'no .wasm was fetched');
  for (const response of wasm) assert.deepEqual(response, { status: 200, type: 'application/wasm' });
  assert.equal(workers.length, 1, `expected the node's worker, got ${workers}`);
  assert.deepEqual(errors, []);
}

test('vite build: the bundled app runs the node (worker + wasm emitted as assets)', async () => {
  await run(join(app, 'node_modules', '.bin', 'vite'), ['build'], app);
  const assets = readdirSync(join(app, 'dist', 'assets'));
  assert.ok(assets.some((f) => /^p2panda_wasm_bg-.*\.wasm$/.test(f)), `no wasm asset in ${assets}`);
  assert.ok(assets.some((f) => /^worker-.*\.js$/.test(f)), `no worker chunk in ${assets}`);

  const { server, url } = await serve(join(app, 'dist'));
  try {
    const result = await visit(`${url}/`);
    assertNodeRan(result);
    assert.match(result.workers[0], /^\/assets\/worker-.*\.js$/);
  } finally {
    await new Promise((done) => server.close(done));
  }
});

/** `vite` (dev server) on a free port of 127.0.0.1, in its own process group. */
async function startDevServer() {
  const child = spawn(join(app, 'node_modules', '.bin', 'vite'), ['--host', '127.0.0.1', '--port', '0'], {
    cwd: app,
    env: ENV,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stderr.on('data', (chunk) => output.push(String(chunk)));
  const stop = () =>
    new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      process.kill(-child.pid, 'SIGTERM');
      setTimeout(() => child.exitCode === null && process.kill(-child.pid, 'SIGKILL'), 3000).unref();
    });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vite did not start:\n${output.join('')}`)), 30_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line + '\n');
      const found = line.match(/Local:\s+(http:\/\/127\.0\.0\.1:\d+)\//);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`vite exited (${code}):\n${output.join('')}`)));
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  return { url, stop };
}

test('vite dev server: the app runs the node (p2panda served unbundled from node_modules)', async () => {
  const dev = await startDevServer();
  try {
    const result = await visit(`${dev.url}/`);
    assertNodeRan(result);
    assert.match(result.workers[0], /^\/node_modules\/p2panda\/worker\.js$/);
  } finally {
    await dev.stop();
  }
});

test('TypeScript finds the types of the installed package through its package.json', async () => {
  // types/example.ts, resolved as an app resolves 'p2panda': node_modules/p2panda, "exports".
  const project = join(dir, 'typecheck');
  mkdirSync(project);
  copyFileSync(join(ROOT, 'p2panda-wasm', 'browser-tests', 'types', 'example.ts'), join(app, 'example.ts'));
  const compilerOptions = {
    target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'],
    strict: true, noEmit: true, types: [],
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['../app/example.ts'] }));
  await run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', project, '--pretty', 'false'], app);
});

// The package's TypeScript types (p2panda-wasm/pkg/index.d.ts) accept an app's real use of the
// API (types/example.ts) and reject wrong calls: each `@ts-expect-error` line there is an error
// once its directive is removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const TYPES = join(ROOT, 'p2panda-wasm', 'browser-tests', 'types');

/** Run tsc on a project; its exit code and diagnostics. */
function tsc(project) {
  return new Promise((resolve) =>
    execFile(TSC, ['-p', project, '--noEmit', '--pretty', 'false'], (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, output: stdout + stderr }),
    ),
  );
}

test('types/example.ts type-checks against pkg/index.d.ts', async () => {
  const { code, output } = await tsc(TYPES);
  assert.equal(code, 0, output);
});

test('without its @ts-expect-error directives, each wrong call in example.ts is a type error', async () => {
  const source = readFileSync(join(TYPES, 'example.ts'), 'utf8').split('\n');
  // Line numbers (1-based) of the calls that must fail, once the directive lines are gone.
  const stripped = [];
  const expected = [];
  for (const line of source) {
    if (line.trim().startsWith('// @ts-expect-error')) expected.push(stripped.length + 1);
    else stripped.push(line);
  }
  assert.ok(expected.length >= 3, 'example.ts lost its negative checks');

  const dir = mkdtempSync(join(tmpdir(), 'p2panda-types-'));
  try {
    writeFileSync(join(dir, 'example.ts'), stripped.join('\n'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: join(TYPES, 'tsconfig.json'), files: ['example.ts'] }),
    );
    const { code, output } = await tsc(dir);
    assert.notEqual(code, 0, 'the wrong calls type-checked');
    const failing = [...output.matchAll(/example\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1]));
    assert.deepEqual([...new Set(failing)].sort((a, b) => a - b), expected, output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * The layering rules (.dependency-cruiser.cjs) bite: a miniature tree with one wrong import per
 * rule is cruised with the project's own configuration, and every rule must report its import.
 * (`npm run lint:layers`, part of `npm test`, runs the same rules over the real tree.)
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

/** file → its source: each wrong import is named after the rule that must catch it. */
const TREE: Record<string, string> = {
  'protocol/core/ok.ts': `export const ok = 1;\n`,
  'protocol/core/pure.ts': `import { link } from '../../cluster/link.ts';\nexport const pure = link;\n`,
  'protocol/frost/uses-driver.ts': `import { driver } from '../testing/driver.ts';\nexport const x = driver;\n`,
  'protocol/testing/driver.ts': `export const driver = 1;\n`,
  'cluster/link.ts': `import { runtime } from '../node/runtime.ts';\nexport const link = runtime;\n`,
  'node/runtime.ts': `import { engine } from '../coordinator/engine.ts';\nexport const runtime = engine;\n`,
  'coordinator/engine.ts': `import { store } from '../node/store.ts';\nexport const engine = store;\n`,
  'node/store.ts': `import { fake } from '../test/fake.ts';\nexport const store = fake;\n`,
  'test/fake.ts': `export const fake = 1;\n`,
  'coordinator/a.ts': `import { b } from './b.ts';\nexport const a = () => b;\n`,
  'coordinator/b.ts': `import { a } from './a.ts';\nexport const b = () => a;\n`,
};

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function cruise(tree: Record<string, string>): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mpc-layers-'));
  dirs.push(dir);
  for (const [file, text] of Object.entries(tree)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  await copyFile(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  await copyFile(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  const bin = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  const dirsPresent = [...new Set(Object.keys(tree).map((f) => f.split('/')[0]!))];
  try {
    const { stdout } = await run(process.execPath, [bin, ...dirsPresent, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: dir });
    return { code: 0, output: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, output: err.stdout + err.stderr };
  }
}

describe('layering rules', () => {
  it('report every wrong import of a miniature tree, each under its rule', async () => {
    const { code, output } = await cruise(TREE);
    expect(code).not.toBe(0);
    const expected: [rule: string, from: string, to: string][] = [
      ['protocol-is-pure', 'protocol/core/pure.ts', 'cluster/link.ts'],
      ['protocol-testing-not-in-production', 'protocol/frost/uses-driver.ts', 'protocol/testing/driver.ts'],
      ['cluster-below-processes', 'cluster/link.ts', 'node/runtime.ts'],
      ['node-not-coordinator', 'node/runtime.ts', 'coordinator/engine.ts'],
      ['coordinator-not-node', 'coordinator/engine.ts', 'node/store.ts'],
      ['production-not-tests', 'node/store.ts', 'test/fake.ts'],
      ['no-cycles', 'coordinator/a.ts', 'coordinator/b.ts'],
    ];
    for (const [rule, from, to] of expected) expect(output).toMatch(new RegExp(`error ${rule}: ${from} →\\s*${to}`));
    expect(output).toMatch(/7 dependency violations/);
  });

  it('pass a tree that keeps to them', async () => {
    const { code, output } = await cruise({ 'protocol/core/ok.ts': TREE['protocol/core/ok.ts']!, 'cluster/link.ts': `import { ok } from '../protocol/core/ok.ts';\nexport const link = ok;\n`, 'node/main.ts': `import { link } from '../cluster/link.ts';\nexport const main = link;\n` });
    expect(output).toMatch(/no dependency violations/);
    expect(code).toBe(0);
  });
});

// The CLI's build step and launcher, on a copy of the project: `npm run build` (build.mjs) bundles
// into a fresh directory and switches .build/cli/current.json to it; segments.cjs runs that bundle
// while no source changed since, the sources with tsx otherwise; a replaced build stays for a day;
// the launcher answers `segments help` from what the build kept, as the router would.

import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeEach, describe, expect, it } from 'vitest';
import { usageDefinitions } from '../../../functions/cli/main.ts';
import { runSegments } from '../../support/cli.ts';
import { withTempDir } from '../../support/temp.ts';

const ROOT = join(import.meta.dirname, '../../..');
const run = promisify(execFile);
const DAY_MS = 24 * 60 * 60 * 1000;

let project: string;

/** The project's sources and manifests in a temporary directory; node_modules linked, tsx only when asked. */
async function copyProject(dir: string): Promise<void> {
  for (const part of ['functions', 'shared', 'infra']) {
    await cp(join(ROOT, part), join(dir, part), { recursive: true, filter: (source) => !/[/\\]dist(\.[^/\\]*)?$/.test(source) });
  }
  for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) await cp(join(ROOT, file), join(dir, file));
  await mkdir(join(dir, 'node_modules'));
  for (const name of await readdir(join(ROOT, 'node_modules'))) {
    if (name !== 'tsx' && name !== '.bin') await symlink(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
}

const withTsx = (): Promise<void> => symlink(join(ROOT, 'node_modules', 'tsx'), join(project, 'node_modules', 'tsx'));
const build = () => run('node', [join(project, 'functions/cli/build.mjs')]);
const segments = (...argv: string[]) => run('node', [join(project, 'functions/cli/segments.cjs'), ...argv]);
const pointer = async (): Promise<{ build: string }> => JSON.parse(await readFile(join(project, '.build/cli/current.json'), 'utf8'));
const failure = (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr });

beforeEach(async () => {
  const dir = await withTempDir('cli-build');
  project = dir.path;
  await copyProject(project);
  return () => dir.remove();
});

describe('the CLI build and its launcher', () => {
  it('runs the bundle the build made, with no tsx installed', async () => {
    await build();
    const { build: current } = await pointer();
    expect(
      (await readdir(join(project, '.build/cli', current))).filter((f) => !f.startsWith('chunk-') && f.endsWith('.js')).sort(),
    ).toContain('label-worker.js');
    const { stdout } = await segments('generate', '--rows', '2');
    expect(stdout.trimEnd().split('\n')).toHaveLength(3);
    // the executable's former name runs it too
    const former = await run('node', [join(project, 'functions/cli/segments.mjs'), 'generate', '--rows', '2']);
    expect(former.stdout).toBe(stdout);
  });

  it('runs the sources with tsx once a source file changed, until the next build', async () => {
    await build();
    const file = join(project, 'functions/cli/commands/generate.ts');
    await writeFile(file, (await readFile(file, 'utf8')).replace('write synthetic mall customers', 'write made-up customers'));
    // without tsx, the stale build is refused rather than run
    expect(await segments('generate', '--help').catch(failure)).toEqual({
      code: 1,
      stderr: 'segments: no current CLI build and no tsx to run the sources: run npm ci (or npm run build)\n',
    });
    await withTsx();
    expect((await segments('generate', '--help')).stdout).toContain('write made-up customers');
    await build();
    await run('rm', [join(project, 'node_modules', 'tsx')]);
    expect((await segments('generate', '--help')).stdout).toContain('write made-up customers');
  });

  it('answers every request for the usage from what the build kept, as the router does, without the bundle', async () => {
    await build();
    const dir = join(project, '.build/cli', (await pointer()).build);
    expect(JSON.parse(await readFile(join(dir, 'usage.json'), 'utf8'))).toEqual(usageDefinitions());
    // the bundle's entry and its router gone: only what answers the usage is left to load
    await rm(join(dir, 'segments.js'));
    await rm(join(dir, 'main.js'));
    const requests = [
      [],
      ['help'],
      ['--help'],
      ['help', 'db'],
      ['db', '--help'],
      ['db', 'train', '-h'],
      ['train', '--k', '5', '--help'],
      ['nope', '-h'],
    ];
    for (const argv of requests) {
      const inProcess = await runSegments(argv);
      const bundled = await segments(...argv).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );
      expect(bundled, argv.join(' ')).toEqual({ code: inProcess.code, stdout: `${inProcess.out.join('\n')}\n` });
    }
    expect(await segments('generate', '--rows', '1').catch(failure)).toMatchObject({ code: 1 });
  });

  it('keeps a replaced build for the processes still running it, and deletes it a day after', async () => {
    await build();
    const first = (await pointer()).build;
    await build();
    const second = (await pointer()).build;
    expect(second).not.toBe(first);
    // a CLI started from the first build still finds its entry and its chunks
    expect((await run('node', [join(project, '.build/cli', first, 'segments.js'), 'generate', '--rows', '1'])).stdout).toMatch(
      /^customer_id,/,
    );
    const old = new Date(Date.now() - 2 * DAY_MS);
    await utimes(join(project, '.build/cli', first), old, old);
    await build();
    const third = (await pointer()).build;
    expect((await readdir(join(project, '.build/cli'))).sort()).toEqual([second, third, 'current.json'].sort());
  });
});

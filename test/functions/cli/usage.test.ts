// The `segments` router and its usage text: the usage is read as a person reads it, and every
// option and command it shows is tried on the parser, and every option the parser takes is
// looked for in it. Configuration comes from the entry point, not from process.env.

import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError, type Command } from '../../../functions/cli/command.ts';
import { cliConfig, type CliConfig } from '../../../functions/cli/config.ts';
import { COMMANDS, usage } from '../../../functions/cli/main.ts';
import { createTestDatabase } from '../../support/database.ts';
import { runSegments } from '../../support/cli.ts';

interface Run {
  code: number;
  out: string;
  err: string[];
}

async function cli(argv: string[], config: CliConfig = { databaseUrl: undefined, debug: false }): Promise<Run> {
  const run = await runSegments(argv, config);
  return { ...run, out: run.out.join('\n') };
}

/** A command line the parser should take: the command's arguments and required options, plus `extra`. */
function commandLine(command: Command, extra: string[] = []): string[] {
  const required = Object.entries(command.options).flatMap(([name, o]) => (o.required ? [`--${name}`, '1'] : []));
  return [...command.args.map((a) => `${a.name}-value`), ...required, ...extra];
}

const accepts = (command: Command, argv: string[]): boolean => {
  try {
    parseCommandLine(command, argv);
    return true;
  } catch (error) {
    if (error instanceof UsageError) return false;
    throw error;
  }
};

/** The usage as a person reads it: each command's block (name, `<args>`, and the `--options` in it). */
function readUsage(text: string): Array<{ name: string; args: number; options: string[] }> {
  const blocks = text.split('\n\n').filter((b) => /^ {2}[a-z]/.test(b));
  const sharedHelp = text.split('\n').filter((l) => /^ {2}--/.test(l));
  return blocks.map((block) => {
    const [synopsis] = block.split('\n');
    const name = /^ {2}([a-z]+(?: [a-z]+)?)/.exec(synopsis!)![1]!;
    const options = [...block.matchAll(/--[a-z-]+/g)].map((m) => m[0]);
    for (const [shared] of synopsis!.matchAll(/\[--[a-z-]+/g)) {
      expect(
        sharedHelp.some((l) => l.startsWith(`  ${shared.slice(1)} `)),
        `${shared} is explained`,
      ).toBe(true);
    }
    const bare = synopsis!.replace(/\[[^\]]*\]/g, '').replace(/--[a-z-]+ <[^>]+>/g, '');
    return { name, args: (bare.match(/<[^>]+>/g) ?? []).length, options };
  });
}

describe('segments help', () => {
  it('lists every command, each option the parser takes for it, and nothing the parser refuses', async () => {
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    const shown = readUsage(help.out);
    expect(shown.map((s) => s.name)).toEqual(COMMANDS.map((c) => c.name));
    for (const { name, args, options } of shown) {
      const command = COMMANDS.find((c) => c.name === name)!;
      expect(args, `${name} arguments`).toBe(command.args.length);
      // what the usage shows, the parser takes (a value after an option that takes one)
      for (const option of new Set(options)) {
        const withValue = accepts(command, commandLine(command, [option, 'x'])) || accepts(command, commandLine(command, [option]));
        expect(withValue, `${name} ${option}`).toBe(true);
      }
      // what the parser takes, the usage shows
      for (const [option, definition] of Object.entries(command.options)) {
        expect(accepts(command, commandLine(command, definition.type === 'string' ? [`--${option}`, 'x'] : [`--${option}`])), option).toBe(
          true,
        );
        expect(options, `${name} shows --${option}`).toContain(`--${option}`);
      }
      expect(accepts(command, commandLine(command, ['--no-such-option'])), `${name} --no-such-option`).toBe(false);
    }
  });

  it('documents the options that were accepted but undocumented (--promote, --batch-size)', () => {
    expect(usage(['train'])).toMatch(/--promote +promote the new model/);
    expect(usage(['db', 'train'])).toMatch(/--promote +promote the new model/);
    expect(usage(['db', 'assign'])).toMatch(/--batch-size <n> +customers labeled per statement/);
  });

  it('shows one command or one group with --help, and every line fits 100 columns', async () => {
    const train = await cli(['train', '--help']);
    expect(train.code).toBe(0);
    expect(readUsage(train.out).map((s) => s.name)).toEqual(['train']);
    expect(readUsage((await cli(['db', '--help'])).out).map((s) => s.name)).toEqual([
      'db migrate',
      'db load',
      'db train',
      'db assign',
      'db status',
    ]);
    expect(readUsage((await cli(['help', 'models', 'promote'])).out).map((s) => s.name)).toEqual(['models promote']);
    for (const line of usage().split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });

  it('prints the usage with exit code 2 when no command is given', async () => {
    const r = await cli([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe(usage());
  });
});

describe('segments command lines the parser refuses (exit code 2, one line and where the usage is)', () => {
  it.each([
    [['nonsense'], 'unknown command "nonsense"', 'segments help'],
    [['db'], 'db needs a subcommand: migrate, load, train, assign or status', 'segments db --help'],
    [['models', 'drop'], 'unknown models subcommand "drop"', 'segments models --help'],
    [['db', 'status', '--k', '3'], 'db status has no option --k', 'segments db status --help'],
    [['generate'], 'generate needs --rows <n>', 'segments generate --help'],
    [['generate', '--rows'], '--rows needs a value', 'segments generate --help'],
    [['train', 'a.csv', '--json=yes'], '--json takes no value', 'segments train --help'],
    [['train'], 'train takes <csv> (got none)', 'segments train --help'],
    [['db', 'train', 'x.csv'], 'db train takes no arguments (got "x.csv")', 'segments db train --help'],
    [['preflight', 'now'], 'preflight takes no arguments (got "now")', 'segments preflight --help'],
  ])('%j', async (argv, message, help) => {
    const r = await cli(argv);
    expect(r).toMatchObject({ code: 2, out: '', err: [`segments: ${message}`, `run "${help}" for usage`] });
  });
});

describe('configuration from the entry point', () => {
  const saved = process.env.DATABASE_URL;
  afterEach(() => {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  });

  it('reads DATABASE_URL and SEGMENTS_DEBUG, an empty value as unset', () => {
    expect(cliConfig({ DATABASE_URL: 'postgres://h/db', SEGMENTS_DEBUG: '1' })).toEqual({ databaseUrl: 'postgres://h/db', debug: true });
    expect(cliConfig({ DATABASE_URL: '', SEGMENTS_DEBUG: '' })).toEqual({ databaseUrl: undefined, debug: false });
  });

  it('uses the database it is given, whatever process.env says by then', async () => {
    const db = await createTestDatabase('cli-config');
    try {
      process.env.DATABASE_URL = 'postgres://127.0.0.1:1/nowhere';
      const r = await cli(['db', 'migrate'], { databaseUrl: db.url, debug: false });
      expect(r).toMatchObject({ code: 0, out: 'database is up to date' });
    } finally {
      await db.drop();
    }
  });

  it('prints the stack of an unexpected error only when debugging', async () => {
    const unreachable = { databaseUrl: 'postgres://127.0.0.1:1/nowhere', debug: false };
    const quiet = await cli(['db', 'status'], unreachable);
    expect(quiet).toMatchObject({ code: 1, err: ['segments: unexpected error: connect ECONNREFUSED 127.0.0.1:1'] });
    const loud = await cli(['db', 'status'], { ...unreachable, debug: true });
    expect(loud.code).toBe(1);
    expect(loud.err).toHaveLength(2);
    expect(loud.err[1]).toMatch(/^Error: connect ECONNREFUSED[^]*\n +at /);
  });
});

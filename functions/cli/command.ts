// How a CLI command is defined: the words that select it, its arguments and options (each with the
// text the usage shows) and what it runs. The parser, the router and the usage text read the same
// definitions; the usage needs nothing else, so a build can answer `segments help` from them alone.

import { parseArgs } from 'node:util';
import { InvalidOptionError, SegmentationError } from '../../shared/errors.ts';
import type { CliConfig } from './config.ts';
import type { Output } from './context.ts';

export interface OptionDefinition {
  readonly type: 'string' | 'boolean';
  /** How the usage shows a string option's value, e.g. `<n>` or `<n>|auto`. */
  readonly value?: string;
  /** One line for the usage. */
  readonly help: string;
  /** The parser refuses a command line without it. */
  readonly required?: boolean;
  /** The same option of several commands: the usage explains it once, after the commands. */
  readonly shared?: boolean;
}

export type OptionDefinitions = Readonly<Record<string, OptionDefinition>>;

type OptionValue<D extends OptionDefinition> = [D['type']] extends ['string']
  ? string
  : [D['type']] extends ['boolean']
    ? boolean
    : string | boolean;
type RequiredKeys<O extends OptionDefinitions> = { [K in keyof O]: O[K] extends { readonly required: true } ? K : never }[keyof O];

/** The parsed options: required ones always present, the others when given. */
export type OptionValues<O extends OptionDefinitions> = { readonly [K in RequiredKeys<O>]: OptionValue<O[K]> } & {
  readonly [K in Exclude<keyof O, RequiredKeys<O>>]?: OptionValue<O[K]>;
};

export interface ArgumentDefinition {
  /** Shown as `<name>`. */
  readonly name: string;
}

/** What every command gets besides its command line. */
export interface CommandContext {
  readonly io: Output;
  readonly config: CliConfig;
}

export interface Command<O extends OptionDefinitions = OptionDefinitions> {
  /** The words that select it: `train`, `db train`. */
  readonly name: string;
  /** Positional arguments, all required. */
  readonly args: readonly ArgumentDefinition[];
  /** One line for the usage. */
  readonly summary: string;
  readonly options: O;
  run(input: { readonly values: OptionValues<O>; readonly args: readonly string[] }, context: CommandContext): Promise<void>;
}

/** A command without what it runs: all the router and the usage read (a build keeps them as JSON). */
export type CommandDefinition = Pick<Command, 'name' | 'args' | 'summary' | 'options'>;

/** All the usage is made of: the commands' definitions, in the order it lists them, and its last lines. */
export interface UsageDefinitions {
  readonly commands: readonly CommandDefinition[];
  readonly footer: readonly string[];
}

/** Declares a command (keeps the option names and types for `run`). */
export function defineCommand<const O extends OptionDefinitions>(command: Command<O>): Command<O> {
  return command;
}

/** A mistake in how the command was called: the usage is pointed to, exit code 2. */
export class UsageError extends SegmentationError {}

/** Options several commands share. */
export const STORE_OPTION = {
  type: 'string',
  value: '<dir>',
  help: 'the local store, laid out like the S3 bucket (default ./.segments)',
  shared: true,
} as const satisfies OptionDefinition;

export const SCHEMA_OPTION = {
  type: 'string',
  value: '<file.json>',
  help: "the customer schema: columns and features (default: the mall's)",
} as const satisfies OptionDefinition;

export const jsonOption = (what: string) =>
  ({ type: 'boolean', help: `print ${what} as JSON on stdout` }) as const satisfies OptionDefinition;

/** Parses a command's part of the command line (after its name) against its definitions. */
export function parseCommandLine<O extends OptionDefinitions>(
  command: Command<O>,
  argv: readonly string[],
): { values: OptionValues<O>; args: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.entries(command.options).map(([name, { type }]) => [name, { type }])),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(parseFailure(command, error));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  for (const [name, option] of Object.entries(command.options)) {
    if (option.required && values[name] === undefined) throw new UsageError(`${command.name} needs ${optionSynopsis(name, option)}`);
  }
  const expected = command.args.length;
  if (parsed.positionals.length !== expected) {
    const wanted = expected === 0 ? 'no arguments' : command.args.map((a) => `<${a.name}>`).join(' ');
    throw new UsageError(`${command.name} takes ${wanted} (got ${describeArguments(parsed.positionals)})`);
  }
  return { values: values as OptionValues<O>, args: parsed.positionals };
}

const describeArguments = (args: readonly string[]): string => (args.length === 0 ? 'none' : args.map((a) => JSON.stringify(a)).join(' '));

/** node:util's parse errors, reworded for a person (their own text names `-- "--x"` escapes). */
function parseFailure(command: Command, error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const option = /'(-[^' ]+)/.exec(message ?? '')?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined) return `${command.name} has no option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option !== undefined) {
    const definition = command.options[option.replace(/^-+/, '')];
    return definition?.type === 'boolean' ? `${option} takes no value` : `${option} needs a value`;
  }
  return String(message ?? error).split('\n')[0]!;
}

/** A whole number ≥ min from an option's text, or undefined when not given. */
export function integer(value: string | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new InvalidOptionError(`--${name} must be a whole number ≥ ${min} (got "${value}")`);
  }
  return n;
}

/** A comma-separated list, blanks dropped, or undefined when not given. */
export const list = (value: string | undefined): string[] | undefined =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

const optionSynopsis = (name: string, option: OptionDefinition): string =>
  option.type === 'string' ? `--${name} ${option.value ?? '<value>'}` : `--${name}`;

/** Where the usage puts the option's help text. */
const HELP_COLUMN = 30;
const OPTION_INDENT = '      ';

function optionLine(name: string, option: OptionDefinition, indent: string): string {
  const synopsis = `${indent}${optionSynopsis(name, option)}`;
  const help = option.required ? `${option.help} (required)` : option.help;
  return synopsis.length < HELP_COLUMN ? `${synopsis.padEnd(HELP_COLUMN)}${help}` : `${synopsis}\n${' '.repeat(HELP_COLUMN)}${help}`;
}

/**
 * The usage of some commands (all of them for `segments help`), from their definitions: each
 * command with its arguments, required options and shared options on its first line, then its
 * summary and its own options; shared options once at the end, then the footer.
 */
export function renderUsage(commands: readonly CommandDefinition[], footer: readonly string[]): string {
  const shared = new Map<string, OptionDefinition>();
  const blocks = commands.map((command) => {
    const options = Object.entries(command.options);
    const synopsis = [
      command.name,
      ...command.args.map((a) => `<${a.name}>`),
      ...options.filter(([, o]) => o.required).map(([name, o]) => optionSynopsis(name, o)),
      ...options.filter(([, o]) => o.shared).map(([name, o]) => `[${optionSynopsis(name, o)}]`),
    ];
    const lines = [`  ${synopsis.join(' ')}`, `${OPTION_INDENT}${command.summary}`];
    for (const [name, option] of options) {
      if (option.shared) shared.set(name, option);
      else lines.push(optionLine(name, option, OPTION_INDENT));
    }
    return lines.join('\n');
  });
  const sharedLines = [...shared].map(([name, option]) => optionLine(name, option, '  '));
  const sharedPart = sharedLines.length === 0 ? [] : [...sharedLines, ''];
  return ['usage: segments <command> [options]', '', blocks.join('\n\n'), '', ...sharedPart, ...footer].join('\n');
}

/** The words that ask for the usage (`help` only as the first word: `--help` and `-h` anywhere). */
const HELP = new Set(['help', '--help', '-h']);

/**
 * Whether a command line asks for the usage, and of what: the words to look up and the exit code
 * (2 for an empty command line, which is a usage mistake); null for a command to run.
 */
export function helpRequest(argv: readonly string[]): { readonly words: readonly string[]; readonly code: number } | null {
  const [first, ...rest] = argv;
  if (first === undefined) return { words: [], code: 2 };
  if (HELP.has(first)) return { words: rest, code: 0 };
  if (argv.some((a) => HELP.has(a) && a !== 'help')) return { words: argv.filter((a) => !a.startsWith('-')), code: 0 };
  return null;
}

/** What a command line names: one command and the words after its name, or the commands it may have meant and why not. */
export type Lookup<C extends CommandDefinition> =
  { readonly command: C; readonly rest: readonly string[] } | { readonly group: readonly C[]; readonly problem: string | null };

/** Commands grouped under a first word (`db`, `models`): the group's name → its commands. */
function groups<C extends CommandDefinition>(commands: readonly C[]): Map<string, C[]> {
  const byWord = new Map<string, C[]>();
  for (const command of commands) {
    const [first, second] = command.name.split(' ');
    if (second !== undefined) byWord.set(first!, [...(byWord.get(first!) ?? []), command]);
  }
  return byWord;
}

/** Finds the command a command line starts with; otherwise the commands it may have meant and why not. */
export function lookUp<C extends CommandDefinition>(commands: readonly C[], argv: readonly string[]): Lookup<C> {
  const [first, second] = argv;
  if (first === undefined) return { group: commands, problem: null };
  const group = groups(commands).get(first);
  if (group === undefined) {
    const command = commands.find((c) => c.name === first);
    return command === undefined ? { group: commands, problem: `unknown command "${first}"` } : { command, rest: argv.slice(1) };
  }
  const command = group.find((c) => c.name === `${first} ${second}`);
  if (command !== undefined) return { command, rest: argv.slice(2) };
  const subcommands = group.map((c) => c.name.split(' ')[1]);
  const choices = `${subcommands.slice(0, -1).join(', ')} or ${subcommands.at(-1)}`;
  return {
    group,
    problem:
      second === undefined || second.startsWith('-')
        ? `${first} needs a subcommand: ${choices}`
        : `unknown ${first} subcommand "${second}"`,
  };
}

/** The usage of every command, or of those the words name (`train`, `db`, `db train`). */
export function usageOf(commands: readonly CommandDefinition[], footer: readonly string[], words: readonly string[] = []): string {
  const matching = lookUp(commands, words);
  return renderUsage('command' in matching ? [matching.command] : matching.group, footer);
}

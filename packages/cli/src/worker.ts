import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Io } from './io.js';
import { main } from './main.js';
import { formatError } from './util/error-line.js';

/**
 * Bazel's JSON persistent-worker protocol (https://bazel.build/remote/persistent): Bazel starts
 * `img --persistent_worker` once, then writes one WorkRequest JSON object per line to stdin and reads
 * one WorkResponse per line from stdout. Each request runs `main(arguments, io)` in this process with
 * its output captured, so Node and the bundle start once per worker instead of once per action.
 */
export const PERSISTENT_WORKER_FLAG = '--persistent_worker';

export interface WorkRequest {
  /** The action's arguments: Bazel puts the contents of the `@flagfile` here. */
  readonly arguments?: readonly string[];
  readonly inputs?: ReadonlyArray<{ readonly path?: string; readonly digest?: string }>;
  /** 0 for singleplex workers (the JSON encoder omits zero fields). */
  readonly requestId?: number;
  readonly cancel?: boolean;
  readonly verbosity?: number;
  /** Set with --worker_sandboxing: the directory relative paths of this request resolve against. */
  readonly sandboxDir?: string;
}

export interface WorkResponse {
  readonly exitCode: number;
  readonly output: string;
  readonly requestId: number;
  readonly wasCancelled?: boolean;
}

/** Runs one command line; resolves to its exit code (`main` by default). */
export type CommandRunner = (argv: readonly string[], io: Io) => Promise<number>;

/** The captured output of one action: stderr lines always, stdout lines only when it failed. */
interface Captured {
  readonly io: Io;
  text(failed: boolean): string;
}

function captureIo(): Captured {
  const lines: Array<{ out: boolean; line: string }> = [];
  const io: Io = {
    out: (line) => lines.push({ out: true, line }),
    err: (line) => lines.push({ out: false, line }),
    interactive: false,
    quiet: true,
  };
  return {
    io,
    text: (failed) =>
      lines
        .filter((l) => failed || !l.out)
        .map((l) => `${l.line}\n`)
        .join(''),
  };
}

/**
 * Run one Bazel action's command line with captured output. A successful action is silent on the
 * console (Bazel prints any output of a successful action), so its stdout (e.g. the digest) is dropped.
 */
export async function runAction(argv: readonly string[], run: CommandRunner = main): Promise<WorkResponse> {
  const captured = captureIo();
  let exitCode: number;
  try {
    exitCode = await run(argv, captured.io);
  } catch (err) {
    captured.io.err(formatError(err));
    exitCode = 1;
  }
  return { exitCode, output: captured.text(exitCode !== 0), requestId: 0 };
}

/** Expand a Bazel param file ("multiline" format: one argument per line) given as `@path`. */
export async function expandParamFile(arg: string): Promise<string[]> {
  const text = await readFile(arg.slice(1), 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** True for the way Bazel runs a non-worker action: the whole command line in one `@paramfile`. */
export function isParamFileInvocation(argv: readonly string[]): boolean {
  return argv.length === 1 && argv[0]!.startsWith('@') && argv[0]!.length > 1;
}

/** One-shot fallback of a worker action (remote execution, --strategy=local): `img @params`. */
export async function runParamFileAction(
  argv: readonly string[],
  run: CommandRunner = main,
): Promise<number> {
  let args: string[];
  try {
    args = await expandParamFile(argv[0]!);
  } catch (err) {
    process.stderr.write(`img: cannot read param file ${argv[0]!.slice(1)}: ${(err as Error).message}\n`);
    return 2;
  }
  const response = await runAction(args, run);
  process.stderr.write(response.output);
  return response.exitCode;
}

function parseRequest(text: string): WorkRequest {
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('a WorkRequest must be a JSON object');
  }
  return value as WorkRequest;
}

async function handle(request: WorkRequest, run: CommandRunner): Promise<WorkResponse> {
  const requestId = request.requestId ?? 0;
  if (request.cancel) return { exitCode: 0, output: '', requestId, wasCancelled: true };
  const previousDir = process.cwd();
  try {
    if (request.sandboxDir) process.chdir(request.sandboxDir);
    const response = await runAction(request.arguments ?? [], run);
    return { ...response, requestId };
  } finally {
    if (request.sandboxDir) process.chdir(previousDir);
  }
}

export interface WorkerOptions {
  readonly input?: Readable;
  /** Writes one protocol line; defaults to the real stdout. */
  readonly write?: (line: string) => void;
  readonly run?: CommandRunner;
}

/**
 * Serve WorkRequests until stdin closes. Requests run one after another (a singleplex worker; Bazel
 * starts several worker processes for parallelism). While serving, anything else that writes to
 * process.stdout (help text, a stray console.log) is diverted to stderr, which Bazel keeps in the
 * worker log, so it cannot corrupt the protocol stream.
 */
export async function runPersistentWorker(options: WorkerOptions = {}): Promise<void> {
  const input = options.input ?? process.stdin;
  const realWrite = process.stdout.write.bind(process.stdout);
  const write = options.write ?? ((line: string) => void realWrite(line));
  const run = options.run ?? main;
  const divert = !options.write;
  if (divert) {
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
      (process.stderr.write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(
        chunk,
        ...rest,
      )) as typeof process.stdout.write;
  }
  try {
    let pending = '';
    input.setEncoding('utf8');
    for await (const chunk of input as AsyncIterable<string>) {
      pending += chunk;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const candidate = pending.slice(0, newline).trim();
        let request: WorkRequest | undefined;
        if (candidate !== '') {
          try {
            request = parseRequest(candidate);
          } catch {
            // A request pretty-printed over several lines: wait for more text.
            newline = pending.indexOf('\n', newline + 1);
            if (newline >= 0) continue;
            break;
          }
        }
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (request) write(`${JSON.stringify(await handle(request, run))}\n`);
      }
    }
    if (pending.trim() !== '') write(`${JSON.stringify(await handle(parseRequest(pending.trim()), run))}\n`);
  } finally {
    if (divert) process.stdout.write = realWrite as typeof process.stdout.write;
  }
}

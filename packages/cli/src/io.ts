/** Where commands print: stdout for results, stderr for progress and warnings. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when stderr is a terminal and progress may be drawn. */
  readonly interactive: boolean;
  quiet: boolean;
  /** Bytes to stdout exactly as given (`img manifest REF`); `out` (one line) where absent. */
  write?(data: Uint8Array | string): void;
  /**
   * With --json: the command's result, printed by main as the one JSON document on stdout (a later
   * call replaces it). Absent without --json.
   */
  result?(value: unknown): void;
}

export function processIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    write: (data) => process.stdout.write(data),
    interactive: Boolean(process.stderr.isTTY),
    quiet: false,
  };
}

/** Whether the command line asks for JSON output (`--json` before any `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** The command's JSON result, or undefined when it set none. */
export interface JsonIo extends Io {
  readonly value: () => unknown;
}

/**
 * The Io a command runs with under --json: its human lines go to stderr, so that stdout carries only
 * the one JSON document main prints from `result()` when the command ends.
 */
export function jsonIo(io: Io): JsonIo {
  let value: unknown;
  return {
    out: (line) => io.err(line),
    err: (line) => io.err(line),
    write: (data) => io.err(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')),
    interactive: io.interactive,
    get quiet() {
      return io.quiet;
    },
    set quiet(q: boolean) {
      io.quiet = q;
    },
    result: (v) => {
      value = v;
    },
    value: () => value,
  };
}

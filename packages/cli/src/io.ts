/** Where commands print: stdout for results, stderr for progress and warnings. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when stderr is a terminal and progress may be drawn. */
  readonly interactive: boolean;
  quiet: boolean;
}

export function processIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    interactive: Boolean(process.stderr.isTTY),
    quiet: false,
  };
}

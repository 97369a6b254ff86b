import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';

/** Key-value files (env_file, label_files, annotations_file) larger than this are refused. */
export const MAX_KV_FILE_BYTES = 4 * 1024 * 1024;

function invalid(where: string, message: string): never {
  throw new CliError('IMG_CLI_INVALID_INPUT', `${where}: ${message}`);
}

function splitLine(line: string, where: string): [string, string] {
  const eq = line.indexOf('=');
  const key = (eq < 0 ? '' : line.slice(0, eq)).trim();
  if (key === '') invalid(where, `${JSON.stringify(line)} is not KEY=VALUE`);
  return [key, line.slice(eq + 1).trim()];
}

/**
 * rules_img's key-value file formats, told apart by the first non-blank character: a JSON object
 * (string values, or lists whose last value wins), a JSON array of `K=V` strings, or `K=V` lines
 * (blank lines and `#` comments skipped). `K=V` forms split on the first `=` and trim key and value;
 * JSON values are kept verbatim. Later entries win.
 */
export function parseKvText(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return invalid(where, `invalid JSON: ${(err as Error).message}`);
    }
    if (Array.isArray(parsed)) {
      parsed.forEach((entry, i) => {
        if (typeof entry !== 'string') invalid(`${where}[${i}]`, 'expected a "KEY=VALUE" string');
        const [k, v] = splitLine(entry as string, `${where}[${i}]`);
        out[k] = v;
      });
      return out;
    }
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      const value = Array.isArray(v) ? v[v.length - 1] : v;
      if (typeof value !== 'string')
        invalid(where, `${JSON.stringify(k)}: expected a string or a list of strings`);
      out[k] = value as string;
    }
    return out;
  }
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const [k, v] = splitLine(line, `${where}:${i + 1}`);
    out[k] = v;
  });
  return out;
}

/** Read and parse a key-value file (see parseKvText); errors name the flag and the file. */
export async function readKvFile(path: string, flag: string): Promise<Record<string, string>> {
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) =>
    invalid(`${flag} ${path}`, err.code ?? err.message),
  );
  if (bytes.length > MAX_KV_FILE_BYTES) invalid(`${flag} ${path}`, `larger than ${MAX_KV_FILE_BYTES} bytes`);
  return parseKvText(bytes.toString('utf8'), `${flag} ${path}`);
}

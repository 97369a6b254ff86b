import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Write `docker-credential-<name>` into `dir`: a real executable speaking the Docker helper protocol,
 * answering `get` for the given server URLs and "credentials not found" otherwise. Each call is logged
 * to `<dir>/<name>.log` as `<action> <server>`. `fail` makes it exit 1 with another message.
 */
export async function writeDockerHelper(
  dir: string,
  name: string,
  entries: Record<string, { username: string; secret: string }>,
  options: { fail?: string } = {},
): Promise<{ path: string; calls(): Promise<string[]> }> {
  const path = join(dir, `docker-credential-${name}`);
  const log = join(dir, `${name}.log`);
  const cases = Object.entries(entries)
    .map(
      ([server, e]) =>
        `  ${shellQuote(server)}) printf '%s' ${shellQuote(JSON.stringify({ ServerURL: server, Username: e.username, Secret: e.secret }))} ;;`,
    )
    .join('\n');
  const body = options.fail
    ? `echo ${shellQuote(options.fail)}\nexit 1`
    : `case "$server" in\n${cases}\n  *) echo "credentials not found in native keychain"; exit 1 ;;\nesac`;
  await writeFile(path, `#!/bin/sh\nserver=$(cat)\necho "$1 $server" >> ${shellQuote(log)}\n${body}\n`);
  await chmod(path, 0o755);
  return {
    path,
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
  };
}

/** Write a Bazel-protocol credential helper answering every URI with `headers`; logs the URIs asked. */
export async function writeBazelHelper(
  dir: string,
  headers: Record<string, string[]>,
): Promise<{ path: string; uris(): Promise<string[]> }> {
  const path = join(dir, 'bazel-credential-helper');
  const log = join(dir, 'bazel-helper.log');
  const script = `#!/usr/bin/env node
const fs = require('node:fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
if (process.argv[2] !== 'get') process.exit(2);
fs.appendFileSync(${JSON.stringify(log)}, input.uri + '\\n');
process.stdout.write(JSON.stringify({ headers: ${JSON.stringify(headers)}, expires: new Date(Date.now() + 3600e3).toISOString() }));
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
  return {
    path,
    uris: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((l) => l !== ''),
  };
}

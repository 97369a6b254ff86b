import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers.js';

const BIN = join(REPO_ROOT, 'packages/cli/dist/bin.cjs');

describe('img writing into a closed pipe (img ... | head)', () => {
  it('stops quietly with exit 0, without a stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'layer', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before img prints
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});

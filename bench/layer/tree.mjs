// The generated benchmark tree, shared by bench/layer and bench/compress: ~60% many small files
// (0.5-48 KiB) in nested dirs, duplicates (10 x a 4 MiB asset, 200 x a 3 KB file), the rest 16-64 MiB
// files. Content is deterministic and compresses like real data.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;

/** Deterministic content that compresses like real data. */
export function makePool(size) {
  const words = (
    'the of and to in is for on with as by at from this that function return const let var if else ' +
    'import export class new await async true false null undefined error value data layer image file ' +
    'path size config usr lib bin share include local etc opt node_modules package json index main'
  ).split(' ');
  const pool = Buffer.alloc(size);
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  let o = 0;
  while (o < size) {
    const kind = next() % 8;
    const len = Math.min(size - o, 4096 + (next() % 61440));
    const end = o + len;
    if (kind < 5) {
      // text / source code: words, punctuation, indentation
      while (o < end) {
        const r = next();
        const w = words[r % words.length];
        const sep = r & 0x1000000 ? (r & 0x2000000 ? '\n    ' : '; ') : ' ';
        o += pool.write(w + sep, o, end - o, 'latin1');
      }
    } else if (kind < 7) {
      // machine code-ish: skewed byte distribution with zero runs
      while (o < end) {
        const r = next();
        pool[o++] = r & 0x8 ? (r >>> 8) & (r >>> 16) & 0xff : 0;
      }
    } else {
      // already-compressed data (images, archives): incompressible
      while (o < end) {
        const r = next();
        pool[o++] = r & 0xff;
        if (o < end) pool[o++] = (r >>> 8) & 0xff;
        if (o < end) pool[o++] = (r >>> 16) & 0xff;
      }
    }
  }
  return pool;
}

/** Writes ~totalMiB MiB of files under `dir`; returns the file count and bytes written. */
export function generateTree(dir, totalMiB) {
  const pool = makePool(96 * MiB);
  let seed = 12345;
  const rnd = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const slice = (size, tag) => {
    const off = rnd(pool.length - size);
    const head = Buffer.from(`// ${tag}\n`);
    return Buffer.concat([head, pool.subarray(off, off + Math.max(0, size - head.length))]);
  };
  let written = 0;
  const budget = totalMiB * MiB;
  // 60%: many small files (0.5-48 KiB) in nested dirs
  let n = 0;
  while (written < budget * 0.6) {
    const d = join(dir, 'src', `pkg${n % 40}`, `mod${Math.floor(n / 40) % 50}`);
    if (n < 2000) mkdirSync(d, { recursive: true });
    const size = 512 + rnd(48 * 1024);
    writeFileSync(join(d, `file${n}.js`), slice(size, `file ${n}`));
    written += size;
    n++;
  }
  // duplicates: 10 copies of a 4 MiB asset and 200 copies of a small file
  mkdirSync(join(dir, 'assets'), { recursive: true });
  const asset = slice(4 * MiB, 'asset');
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, 'assets', `copy${i}.bin`), asset);
  written += 40 * MiB;
  const small = slice(3000, 'license');
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'src', `pkg${i % 40}`, `LICENSE.${i}`), small);
  // the rest: large files of 16-64 MiB
  mkdirSync(join(dir, 'big'), { recursive: true });
  let b = 0;
  while (written < budget) {
    const size = Math.min(budget - written, (16 + rnd(48)) * MiB);
    const fd = openSync(join(dir, 'big', `blob${b++}.dat`), 'w');
    for (let o = 0; o < size; o += 8 * MiB)
      writeSync(fd, slice(Math.min(8 * MiB, size - o), `big ${b} ${o}`));
    closeSync(fd);
    written += size;
  }
  return { files: n + 10 + 200 + b, bytes: written };
}

/** A 4 GiB single file of pool content (64 x 64 MiB, each made distinct), for peak-RSS cases. */
export function writeHugeFile(path) {
  const pool = makePool(64 * MiB);
  const fd = openSync(path, 'w');
  for (let i = 0; i < 64; i++) {
    pool.writeUInt32LE(i, 0);
    writeSync(fd, pool);
  }
  closeSync(fd);
}

// The img CLI bundle the ruleset ships: img/private/img.cjs (one file, every @img/* package from source
// and every npm dependency inlined, zstd's wasm embedded) and img/private/proto. The bundling itself is
// the CLI's own (packages/cli/scripts/bundle.mjs, which also writes the npm package's bin).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from '../../cli/scripts/bundle.mjs';

const outfile = join(dirname(fileURLToPath(import.meta.url)), '..', 'img', 'private', 'img.cjs');
const bytes = await bundleCli(outfile);
process.stdout.write(`bundled packages/cli/src/bin.ts -> ${outfile} (${(bytes / 1024).toFixed(0)} KiB)\n`);

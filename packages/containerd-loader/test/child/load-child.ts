// Runs one load in its own process (bundled by the test with esbuild), reporting progress on stdout,
// so the test can SIGKILL it in the middle of a write.
import { readLayout } from '@img/oci-layout';
import { loadIntoContainerd } from '../../src/index.js';

const [ref, address, namespace, name] = process.argv.slice(2) as [string, string, string, string];
const layout = await readLayout(ref);
const result = await loadIntoContainerd(layout, {
  address,
  namespace,
  names: [name],
  chunkBytes: 256 * 1024,
  onProgress: (e) => {
    if (e.type === 'blob' && e.phase === 'progress')
      process.stdout.write(`progress ${e.descriptor!.digest} ${e.bytes}\n`);
  },
});
process.stdout.write(`done ${result.bytesWritten}\n`);

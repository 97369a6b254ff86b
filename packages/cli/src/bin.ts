import { main } from './main.js';
import { formatError } from './util/error-line.js';
import { keepHeapSmall } from './util/heap-settings.js';
import { markOneShotProcess } from './util/wasm-tiering.js';
import {
  isParamFileInvocation,
  PERSISTENT_WORKER_FLAG,
  runParamFileAction,
  runPersistentWorker,
} from './worker.js';

keepHeapSmall();
const argv = process.argv.slice(2);
const persistentWorker = argv.includes(PERSISTENT_WORKER_FLAG);
if (!persistentWorker) {
  markOneShotProcess();
  // `img ... | head`: the reader went away; stop quietly, as other Unix tools do, without a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}
const run: () => Promise<number> = persistentWorker
  ? () => runPersistentWorker().then(() => 0)
  : isParamFileInvocation(argv)
    ? () => runParamFileAction(argv)
    : () => main(argv);

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${formatError(err)}\n`);
    process.exitCode = 1;
  },
);

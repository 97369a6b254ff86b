import { main } from './main.js';
import {
  isParamFileInvocation,
  PERSISTENT_WORKER_FLAG,
  runParamFileAction,
  runPersistentWorker,
} from './worker.js';

const argv = process.argv.slice(2);
const run: () => Promise<number | void> = argv.includes(PERSISTENT_WORKER_FLAG)
  ? () => runPersistentWorker()
  : isParamFileInvocation(argv)
    ? () => runParamFileAction(argv)
    : () => main(argv);

run().then(
  (code) => {
    process.exitCode = code ?? 0;
  },
  (err) => {
    process.stderr.write(`img: ${String(err)}\n`);
    process.exitCode = 1;
  },
);

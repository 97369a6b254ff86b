import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`img: ${String(err)}\n`);
    process.exitCode = 1;
  },
);

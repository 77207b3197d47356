/**
 * Entry point of the `weft` command (`bin/weft.js` imports the compiled copy). Runs the
 * program, then exits with its code once stdout and stderr are flushed — without waiting for
 * timers a user's step may have left behind.
 *
 * ```sh
 * weft run pipeline.ts --param day=2026-01-01
 * weft runs
 * weft show run_…
 * ```
 */
import { runCli } from './program.js';

function flush(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

const code = await runCli(process.argv);
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);

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

// Output piped into a command that stops reading (`weft runs | head`) ends quietly, as other
// command-line tools do, instead of with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const code = await runCli(process.argv);
await Promise.all([flush(process.stdout), flush(process.stderr)]);
process.exit(code);

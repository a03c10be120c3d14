/**
 * `strata`: the docker-like CLI (contract: DESIGN.md §4). Every command is a thin layer over
 * the Runtime library; errors become one line on stderr and a non-zero status (125 when
 * Strata itself fails), never a stack trace.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, RuntimeError } from '../exit-codes.js';
import { registerContainerCommands } from './containers.js';
import { registerImageCommands } from './images.js';

const program = new Command('strata')
  .description('run WebAssembly (WASI preview1) containers from OCI images, on an overlay root filesystem')
  .addOption(new Option('--root <dir>', 'state directory').env('STRATA_ROOT'))
  .exitOverride()
  .configureOutput({ outputError: (s, w) => w(s) })
  .showHelpAfterError(false)
  .enablePositionalOptions()
  .version('0.1.0');

// A reader that went away (`strata run … | head`) is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

registerContainerCommands(program);
registerImageCommands(program);

// Not a top-level await: the CLI bundle is CommonJS (see scripts/bundle.mjs).
program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : EXIT.RUNTIME_ERROR;
  } else {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`strata: ${message}\n`);
    process.exitCode = e instanceof RuntimeError ? e.exitCode : EXIT.RUNTIME_ERROR;
    if (process.env.STRATA_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  }
});

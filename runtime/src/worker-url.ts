import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Start a worker on one of this package's modules, from source or from the build.
 *
 * Built code (dist/*.js) starts the .js file directly. Source code (tests, runs with the
 * `strata-source` condition) starts the .ts file: a tiny bootstrap registers tsx's loader
 * inside the worker first (loader hooks registered in the parent thread do not reach
 * workers), with the same export condition, so the worker sees the same sources as its
 * parent.
 */
export function startWorker(moduleUrl: string | URL, options: WorkerOptions = {}): Worker {
  const url = new URL(moduleUrl);
  if (!url.pathname.endsWith('.ts')) {
    // Built code loads built code: a parent started with `--conditions=strata-source` (a
    // bench or test importing the build) must not hand that condition to the worker, which
    // would then resolve the workspace packages to .ts sources it cannot load.
    return new Worker(url, { ...options, execArgv: options.execArgv ?? withoutConditions(process.execArgv) });
  }
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, {
    ...options,
    eval: true,
    execArgv: [...(options.execArgv ?? []), '--conditions=strata-source'],
  });
}

function withoutConditions(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--conditions' || a === '-C') i++;
    else if (!a.startsWith('--conditions=')) out.push(a);
  }
  return out;
}

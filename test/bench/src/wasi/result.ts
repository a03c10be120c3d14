/**
 * The one line each fsbench workload prints (packages/wasi/guests/bench/fsbench.c):
 * `result <mode> <elapsed_ns> <operations> <checksum>`, timed by the guest itself.
 */
export function parseResult(stdout: string): { ns: number; ops: number; checksum: string } {
  const m = /^result \S+ (\d+) (\d+) ([0-9a-f]+)$/m.exec(stdout);
  if (!m) throw new Error(`no result line in output: ${JSON.stringify(stdout.slice(0, 200))}`);
  return { ns: Number(m[1]), ops: Number(m[2]), checksum: m[3]! };
}

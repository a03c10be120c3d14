import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginSandbox } from '../src/sandbox.js';

let sandbox: PluginSandbox;
beforeAll(async () => {
  sandbox = await PluginSandbox.open();
});
afterAll(() => sandbox.close());

describe('plugin sandbox', () => {
  it('feeds a plugin through stdin and reads its output', async () => {
    const r = await sandbox.run('upper', { stdin: 'hello plugin\n' });
    expect(r).toMatchObject({ exitCode: 0, output: 'HELLO PLUGIN\n' });
  });

  it('feeds a plugin through a mounted directory and reads its result file', async () => {
    const r = await sandbox.run('wordcount', { input: 'one two three\nfour' });
    expect(r.exitCode).toBe(0);
    expect(r.result).toBe('4\n');
  });

  it('stops a plugin that never returns, and keeps serving the next ones', async () => {
    const t0 = Date.now();
    const r = await sandbox.run('greedy', { timeoutSeconds: 1 });
    expect(r.exitCode).toBe(137);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect((await sandbox.run('upper', { stdin: 'still here' })).output).toBe('STILL HERE');
  });
});

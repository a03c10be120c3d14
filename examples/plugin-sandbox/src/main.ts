/**
 * `pnpm --filter @strata/example-plugin-sandbox start`: run the example plugins, one of them
 * misbehaving, and show what each returned.
 */
import { PluginSandbox } from './sandbox.js';

const sandbox = await PluginSandbox.open();
try {
  const upper = await sandbox.run('upper', { stdin: 'plugins run in containers\n' });
  console.log(`upper     → exit ${upper.exitCode}: ${upper.output.trim()}`);
  const wc = await sandbox.run('wordcount', { input: 'the quick brown fox jumps over the lazy dog' });
  console.log(`wordcount → exit ${wc.exitCode}: ${wc.result?.trim()} words`);
  const greedy = await sandbox.run('greedy', { timeoutSeconds: 1 });
  console.log(`greedy    → exit ${greedy.exitCode}: ${greedy.error}`);
} finally {
  sandbox.close();
}

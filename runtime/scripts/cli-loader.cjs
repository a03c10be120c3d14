#!/usr/bin/env node
// The `strata` executable: runs the CLI bundle (strata-cli.js, next to this file) through
// V8's code cache. The cache is plain V8 data for this exact source and V8 version; V8
// rejects it when either changed, and a fresh one is written at exit (atomically, and
// silently skipped where the directory is not writable). There is one cache per command
// (`strata-cli.js.run.cache`, ...): a cache holds the functions compiled by the run that
// wrote it, and `run` compiles very different code from `images`. See scripts/bundle.mjs.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const file = path.join(__dirname, 'strata-cli.js');
const command = process.argv.slice(2).find((a) => /^[a-z]{2,12}$/.test(a)) ?? 'none';
const cacheFile = `${file}.${command}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // no cache yet
}
const source = readFileSync(file, 'utf8');
const script = new vm.Script(Module.wrap(source), {
  filename: file,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
const cli = new Module(file, module);
cli.filename = file;
cli.paths = Module._nodeModulePaths(__dirname);
if (!cachedData || script.cachedDataRejected) {
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // a read-only install: run without the cache
    }
  });
}
script.runInThisContext().call(cli.exports, cli.exports, (id) => cli.require(id), cli, file, __dirname);

#!/usr/bin/env node
'use strict';
// The CLI is compiled TypeScript; `npm run build` (run by `npm install` via `prepare`) produces it.
require('../dist/lib/cli/main.js')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`sluice: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  });

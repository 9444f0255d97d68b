#!/usr/bin/env node
'use strict';
// The CLI. Compiled code lives in dist/ (built by `npm install`).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // Answered before anything loads: it is what scripts ask first.
  process.stdout.write(require('../package.json').version + '\n');
} else {
  require('../dist/cli/launcher.js').launch(require('path').join(__dirname, '..', 'dist', 'cli.bundle.cjs'));
}

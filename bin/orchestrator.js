#!/usr/bin/env node
'use strict';
// The CLI. Compiled code lives in dist/ (built by `npm install`).
const path = require('path');
require('../dist/cli/launcher.js').launch(path.join(__dirname, '..', 'dist', 'cli.bundle.cjs'));

#!/usr/bin/env node
'use strict';
// The original package's orchestrator-server command, over this CLI (see src/cli/original.ts).
const path = require('path');
require('../dist/cli/launcher.js').launch(path.join(__dirname, '..', 'dist', 'cli.bundle.cjs'), 'server');

#!/usr/bin/env node
'use strict';
// The pre-receive check, called by hooks/pre-receive once installed.
const path = require('path');
require('../dist/cli/launcher.js').launch(path.join(__dirname, '..', 'dist', 'hook.bundle.cjs'));

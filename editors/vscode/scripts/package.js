#!/usr/bin/env node
// Builds out/ with tsc and packages smallcode-<version>.vsix with @vscode/vsce.
// Usage (from editors/vscode): npm ci && npm run package
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

const version = require(path.join(root, 'package.json')).version;
const out = process.argv[2] || path.join(root, `smallcode-${version}.vsix`);
run(bin('tsc'), ['-p', '.']);
// Production dependencies (vscode-languageclient) are bundled from node_modules by vsce.
run(bin('vsce'), ['package', '--out', out, '--allow-missing-repository', '--skip-license']);
console.log(`wrote ${out}`);

// End-to-end tests spawn the real binaries, which run the built `dist`: build first (incremental, so it
// costs about a second when nothing changed) so that `npm test` never runs stale code.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function globalSetup() {
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
    cwd: root,
    stdio: 'inherit',
  });
};

// Compiles src/ to dist/ (tsc: the same checker as `npm run typecheck`), precompiles the configuration's validator
// (Ajv standalone code: a CLI call then skips compiling the schema), then stamps the build so bin/cinerec.js knows
// it is current. Run by `npm install` (prepare) and `npm run build`.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.build.json`], {
  stdio: 'inherit',
});
execFileSync(process.execPath, [`${root}/scripts/config-validator.mjs`], { stdio: 'inherit', cwd: root });
writeFileSync(`${root}/dist/.built`, `${new Date().toISOString()}\n`);

// Compiles src/ to dist/ (tsc: the same checker as `npm run typecheck`), precompiles the configuration's validator
// (Ajv standalone code: a CLI call then skips compiling the schema), then stamps the build so bin/cinerec.js knows
// it is current, and links the `cinerec` command into node_modules/.bin so that `npx cinerec` runs this checkout
// (npm links the bins of dependencies only, never the project's own). Run by `npm install` (prepare) and
// `npm run build`.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}/dist`, { recursive: true, force: true });
execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', `${root}/tsconfig.build.json`], {
  stdio: 'inherit',
});
execFileSync(process.execPath, [`${root}/scripts/config-validator.mjs`], { stdio: 'inherit', cwd: root });
writeFileSync(`${root}/dist/.built`, `${new Date().toISOString()}\n`);

const bin = `${root}/node_modules/.bin/cinerec`;
const exists = (p) => existsSync(p) || lstatSync(p, { throwIfNoEntry: false }) !== undefined;
if (existsSync(`${root}/node_modules`) && !exists(bin)) {
  mkdirSync(`${root}/node_modules/.bin`, { recursive: true });
  symlinkSync('../../bin/cinerec.js', bin);
}

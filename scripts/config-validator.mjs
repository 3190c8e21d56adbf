// Writes dist/config/config-validator.js: the configuration's JSON Schema compiled by Ajv into standalone code, so
// that a CLI call validates its configuration without compiling the schema first (about 0.1 s).
import { writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';

const dist = new URL('../dist/config/', import.meta.url);
const { CONFIG_SCHEMA } = await import(new URL('config.js', dist).href);
const ajv = new Ajv({ allErrors: true, code: { source: true, esm: true } });
// Ajv's ESM output still require()s one runtime helper (string lengths): import it instead.
const code = standalone(ajv, ajv.compile(CONFIG_SCHEMA)).replaceAll(
  'require("ajv/dist/runtime/ucs2length")',
  'ucs2length',
);
writeFileSync(
  new URL('config-validator.js', dist),
  `import ucs2length from "ajv/dist/runtime/ucs2length.js";\n${code}`,
);

/**
 * Declaring a setting once. Every setting of the configuration is declared in one place, beside the component that
 * reads it (components/*.ts): its type, default, range, documentation and, for tunable ones, the range that
 * `cinerec tune` searches. The configuration's JSON Schema, its defaults, its TypeScript type and the tuning search
 * spaces are all derived from these declarations, so none of them can drift from the others.
 */

/** How `cinerec tune` samples a parameter: log-uniform where scale matters, else uniform. */
export interface SearchRange {
  kind: 'log' | 'uniform';
  min: number;
  max: number;
}

interface Base {
  doc: string;
}

export interface NumberParam extends Base {
  kind: 'number' | 'integer';
  default: number | undefined;
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
  search?: SearchRange;
}

export interface ChoiceParam<T extends string = string> extends Base {
  kind: 'choice';
  values: readonly T[];
  default: T;
}

export interface TextParam extends Base {
  kind: 'text';
  default: string | undefined;
  pattern?: string;
}

export interface ListParam extends Base {
  kind: 'integer[]' | 'text[]';
  default: number[] | string[];
  min?: number;
  max?: number;
  maxItems?: number;
  minItems?: number;
}

export interface GroupParam<P extends Params = Params> extends Base {
  kind: 'group';
  params: P;
}

export type Param = NumberParam | ChoiceParam | TextParam | ListParam | GroupParam;
export type Params = { readonly [key: string]: Param };

interface NumberOptions {
  doc: string;
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
  search?: SearchRange;
}

/** A number setting. */
export function num(value: number, o: NumberOptions): NumberParam & { default: number } {
  return { kind: 'number', default: value, ...o };
}

/** A whole-number setting. */
export function int(value: number, o: NumberOptions): NumberParam & { default: number } {
  return { kind: 'integer', default: value, ...o };
}

/** A number setting without a default (absent unless set). */
export function optionalNum(o: NumberOptions): NumberParam & { default: undefined } {
  return { kind: 'number', default: undefined, ...o };
}

export function choice<const T extends string>(values: readonly T[], value: T, doc: string): ChoiceParam<T> {
  return { kind: 'choice', values, default: value, doc };
}

export function text(value: string, doc: string, pattern?: string): TextParam & { default: string } {
  return { kind: 'text', default: value, doc, ...(pattern ? { pattern } : {}) };
}

export function optionalText(doc: string): TextParam & { default: undefined } {
  return { kind: 'text', default: undefined, doc };
}

export function ints(
  value: number[],
  o: { doc: string; min?: number; max?: number; maxItems?: number; minItems?: number },
): ListParam & { kind: 'integer[]' } {
  return { kind: 'integer[]', default: value, ...o };
}

export function texts(value: string[], o: { doc: string; minItems?: number }): ListParam & { kind: 'text[]' } {
  return { kind: 'text[]', default: value, ...o };
}

export function group<const P extends Params>(params: P, doc = ''): GroupParam<P> {
  return { kind: 'group', params, doc };
}

/** The values a declaration describes (its TypeScript type). */
export type ValuesOf<P extends Params> = {
  -readonly [K in keyof P as P[K] extends { default: undefined } ? never : K]: ValueOf<P[K]>;
} & {
  -readonly [K in keyof P as P[K] extends { default: undefined } ? K : never]?: ValueOf<P[K]>;
};

type ValueOf<T> =
  T extends GroupParam<infer G>
    ? ValuesOf<G>
    : T extends ChoiceParam<infer C>
      ? C
      : T extends { kind: 'integer[]' }
        ? number[]
        : T extends { kind: 'text[]' }
          ? string[]
          : T extends TextParam
            ? string
            : number;

/** A top-level section of the configuration (e.g. `als`), declared by the component that owns it. */
export interface Section<K extends string = string, P extends Params = Params> {
  key: K;
  doc: string;
  params: P;
}

export function section<const K extends string, const P extends Params>(key: K, doc: string, params: P): Section<K, P> {
  return { key, doc, params };
}

export function defaultsOf<P extends Params>(params: P): ValuesOf<P> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(params)) {
    if (p.kind === 'group') out[k] = defaultsOf(p.params);
    else if (p.default !== undefined) out[k] = Array.isArray(p.default) ? [...p.default] : p.default;
  }
  return out as ValuesOf<P>;
}

export type JsonSchema = Record<string, unknown>;

function paramSchema(p: Param): JsonSchema {
  switch (p.kind) {
    case 'group':
      return schemaOf(p.params);
    case 'choice':
      return { type: 'string', enum: [...p.values] };
    case 'text':
      return { type: 'string', minLength: 1, ...(p.pattern ? { pattern: p.pattern } : {}) };
    case 'integer[]':
    case 'text[]':
      return {
        type: 'array',
        items:
          p.kind === 'integer[]'
            ? {
                type: 'integer',
                ...(p.min !== undefined ? { minimum: p.min } : {}),
                ...(p.max !== undefined ? { maximum: p.max } : {}),
              }
            : { type: 'string', minLength: 1 },
        ...(p.maxItems !== undefined ? { maxItems: p.maxItems } : {}),
        ...(p.minItems !== undefined ? { minItems: p.minItems } : {}),
      };
    default:
      return {
        type: p.kind,
        ...(p.min !== undefined ? { minimum: p.min } : {}),
        ...(p.max !== undefined ? { maximum: p.max } : {}),
        ...(p.exclusiveMin !== undefined ? { exclusiveMinimum: p.exclusiveMin } : {}),
        ...(p.exclusiveMax !== undefined ? { exclusiveMaximum: p.exclusiveMax } : {}),
      };
  }
}

/** JSON Schema of a declaration: every setting with a default is required (the defaults are merged first). */
export function schemaOf(params: Params): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [k, p] of Object.entries(params)) {
    properties[k] = { ...paramSchema(p), ...(p.doc ? { description: p.doc } : {}) };
    if (p.kind === 'group' || p.default !== undefined) required.push(k);
  }
  return { type: 'object', additionalProperties: false, required, properties };
}

export interface Leaf {
  /** Dotted path inside the section, e.g. "weights.genres". */
  path: string;
  param: Exclude<Param, GroupParam>;
}

/** Every setting below a declaration, with its dotted path. */
export function leaves(params: Params, prefix = ''): Leaf[] {
  const out: Leaf[] = [];
  for (const [k, p] of Object.entries(params)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (p.kind === 'group') out.push(...leaves(p.params, path));
    else out.push({ path, param: p });
  }
  return out;
}

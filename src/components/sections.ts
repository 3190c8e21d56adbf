import { ALS } from './als.ts';
import { BIAS, RANDOM } from './baselines.ts';
import { CONTENT } from './content.ts';
import { EASE } from './ease.ts';
import { ENSEMBLE } from './ensemble.ts';
import { HYBRID } from './hybrid.ts';
import { MF } from './mf.ts';
import { MULT_VAE } from './mult-vae.ts';
import { NEURAL } from './neural.ts';
import type { Params, Section, ValuesOf } from './params.ts';
import { POPULARITY } from './popularity.ts';
import { ROUTER } from './router.ts';
import { RP3BETA } from './rp3beta.ts';
import { SEGMENTS } from './segments.ts';
import { SIMILAR } from './similar.ts';
import { USER_CLUSTERS } from './user-clusters.ts';

/** Every component's configuration section, in the order the configuration reference lists them. */
export const COMPONENT_SECTIONS = [
  POPULARITY,
  CONTENT,
  ALS,
  EASE,
  RP3BETA,
  MULT_VAE,
  ENSEMBLE,
  HYBRID,
  USER_CLUSTERS,
  SEGMENTS,
  MF,
  NEURAL,
  SIMILAR,
  ROUTER,
  RANDOM,
  BIAS,
] as const;

type Sections = (typeof COMPONENT_SECTIONS)[number];

/** The components' settings, one key per section, typed from the declarations. */
export type ComponentSettings = {
  [S in Sections as S['key']]: S extends Section<string, infer P extends Params> ? ValuesOf<P> : never;
};

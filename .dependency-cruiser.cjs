/**
 * Import rules checked in CI (`npm run lint:deps`): no cycles between modules or between folders, data flowing one
 * way, and serving never importing training. Type-only imports count too.
 *
 * Folders from the bottom up; a folder may import only folders below it (and itself). Two folders can then never
 * import each other, so this ordering is also the folder-level cycle check.
 */
const LAYERS = [
  'util',
  'math',
  'nn',
  'data',
  'store',
  'features',
  'models',
  'recommend',
  'components',
  'config',
  'tracking',
  'versions',
  'evaluation',
  'serving',
  'pipeline',
  'server',
  'cli',
];

const above = (i) => LAYERS.slice(i + 1).join('|');

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules must not import each other in a cycle',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.slice(0, -1).map((layer, i) => ({
      name: `layer-${layer}`,
      severity: 'error',
      comment: `src/${layer} may import only folders below it (${LAYERS.slice(0, i).join(', ') || 'none'})`,
      from: { path: `^src/${layer}/` },
      to: { path: `^src/(${above(i)})/` },
    })),
    {
      name: 'serving-not-training',
      severity: 'error',
      comment: 'the server and the serving services only load trained models: they never import the training pipeline',
      from: { path: '^src/(server|serving|recommend|components)/' },
      to: { path: '^src/pipeline/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};

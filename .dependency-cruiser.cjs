/**
 * The layering rules of docs/architecture.md, checked by `npm run lint:layers` (part of `npm test`).
 *
 *   protocol/   pure state machines: libraries only
 *   contract/   the HTTP API's zod schemas: protocol/ and libraries
 *   client/     the typed API client: contract/, protocol/ and libraries
 *   cluster/    what both processes share: protocol/ and libraries
 *   node/       the signer daemon: cluster/, protocol/
 *   coordinator/ the API and orchestration: cluster/, protocol/
 *
 * Production code never reaches into tests, simulations, benchmarks or the protocol test drivers.
 */
const PRODUCTION = '^(protocol|contract|client|cluster|node|coordinator|bin|docker)/';

module.exports = {
  forbidden: [
    {
      name: 'protocol-is-pure',
      comment: 'protocol/ is transport-free and imports nothing from the rest of the tree',
      severity: 'error',
      from: { path: '^protocol/' },
      to: { path: '^(contract|client|cluster|node|coordinator|simulations|bench|bin|docker|test)/' },
    },
    {
      name: 'contract-stands-alone',
      comment: 'contract/ is what the server and every client share: it knows neither',
      severity: 'error',
      from: { path: '^contract/' },
      to: { path: '^(client|cluster|node|coordinator|simulations|bench|bin|docker|test)/' },
    },
    {
      name: 'client-talks-http-only',
      comment: 'client/ reaches a cluster through the HTTP contract, never through its code',
      severity: 'error',
      from: { path: '^client/' },
      to: { path: '^(cluster|node|coordinator|simulations|bench|bin|docker|test)/' },
    },
    {
      name: 'protocol-testing-not-in-production',
      comment: 'the protocol test drivers and adversary hooks are for tests, simulations and benchmarks',
      severity: 'error',
      from: { path: PRODUCTION, pathNot: '^protocol/testing/' },
      to: { path: '^protocol/testing/' },
    },
    {
      name: 'cluster-below-processes',
      comment: 'cluster/ is shared by both processes, so it imports neither',
      severity: 'error',
      from: { path: '^cluster/' },
      to: { path: '^(node|coordinator|simulations|bench|bin|docker|test)/' },
    },
    {
      name: 'node-not-coordinator',
      comment: 'the signer daemon does not depend on the coordinator',
      severity: 'error',
      from: { path: '^node/' },
      to: { path: '^coordinator/' },
    },
    {
      name: 'coordinator-not-node',
      comment: 'the coordinator drives nodes through cluster/ messages, not node/ code',
      severity: 'error',
      from: { path: '^coordinator/' },
      to: { path: '^node/' },
    },
    {
      name: 'production-not-tests',
      comment: 'production code never imports tests, simulations or benchmarks',
      severity: 'error',
      from: { path: PRODUCTION },
      to: { path: '^(test|simulations|bench)/' },
    },
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
    { name: 'resolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.mpc)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};

/**
 * Test drivers for the protocol state machines: run parties in one process, with adversary hooks.
 * Production code never imports this module (the layering rules in .dependency-cruiser.cjs say so);
 * tests, simulations and benchmarks do.
 */
export * from './driver.ts';
export * from './frost.ts';
export * from './dkls23.ts';

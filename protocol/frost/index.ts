export * from './dkg.ts';
export * from './keys.ts';
export * from './sign.ts';
export * from './suites.ts';

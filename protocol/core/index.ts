export * from './codec.ts';
export * from './errors.ts';
export * from './ids.ts';
export * from './lagrange.ts';
export * from './message.ts';
export * from './party.ts';
export * from './transcript.ts';

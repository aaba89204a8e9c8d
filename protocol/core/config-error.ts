/**
 * Its own module so that `ids.ts` can throw it without importing `errors.ts` (which needs
 * the `PartyId` type from `ids.ts`): no import cycle inside the core.
 */

/** Bad arguments from the caller (threshold out of range, too few parties, ...). */
export class ProtocolConfigError extends Error {
  override readonly name = 'ProtocolConfigError';
}

/**
 * What the API answers about a key or a derived child: the registry's record plus what wallets
 * would otherwise re-derive themselves (addresses, the xpub for the asked network, and for
 * BIP340 keys the Taproot internal and output keys).
 */
import type { ChildKey, Key } from '../contract/api.ts';
import { derive } from '../protocol/derive.ts';
import { schemeOf, taprootOutputKey, type BitcoinNetwork } from '../protocol/schemes/index.ts';
import { p2trAddress } from '../protocol/schemes/addresses.ts';
import { pathSteps, ServiceError, type KeyInfo } from './service.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function keyView(key: KeyInfo, network: BitcoinNetwork): Key {
  const scheme = schemeOf(key.scheme);
  const userKey = Buffer.from(key.publicKey, 'hex');
  const groupKey = key.groupKey ? Buffer.from(key.groupKey, 'hex') : undefined;
  const xpub = groupKey && scheme.xpub ? scheme.xpub(groupKey, Buffer.from(key.chainCode, 'hex'), network) : undefined;
  return {
    id: key.id,
    scheme: key.scheme,
    threshold: key.threshold,
    nodes: [...key.nodes],
    publicKey: key.publicKey,
    chainCode: key.chainCode,
    ...(key.groupKey ? { groupKey: key.groupKey } : {}),
    ...(xpub ? { xpub } : {}),
    network,
    ...taprootView(key, userKey, network),
    createdAt: key.createdAt,
    status: key.status ?? 'active',
    epoch: key.epoch ?? 0,
    ...(key.label !== undefined ? { label: key.label } : {}),
    ...(key.metadata ? { metadata: { ...key.metadata } } : {}),
    ...(key.custody ? { custody: { ...key.custody, members: [...key.custody.members] } } : {}),
  };
}

/** Addresses, and for BIP340 keys the Taproot keys (a key made before 0.2 is its own output key). */
function taprootView(key: KeyInfo, userKey: Uint8Array, network: BitcoinNetwork): Pick<Key, 'addresses' | 'taproot'> {
  const scheme = schemeOf(key.scheme);
  if (key.taprootOutputOnly) return { addresses: { p2tr: p2trAddress(userKey, network) }, taproot: { outputKey: hex(userKey) } };
  return { addresses: scheme.addresses(userKey, network), ...(scheme.taproot ? { taproot: { internalKey: hex(userKey), outputKey: hex(taprootOutputKey(userKey)) } } : {}) };
}

export function childView(key: KeyInfo, path: string, network: BitcoinNetwork): ChildKey {
  const scheme = schemeOf(key.scheme);
  if (!key.groupKey) throw new ServiceError('unsupported', 'this key predates derivation support');
  const steps = pathSteps(path);
  let child;
  try {
    child = derive(scheme.curve, Buffer.from(key.groupKey, 'hex'), Buffer.from(key.chainCode, 'hex'), steps);
  } catch (e) {
    throw new ServiceError('invalid_request', (e as Error).message);
  }
  const userKey = scheme.userKey(child.publicKey);
  return { keyId: key.id, path, publicKey: hex(userKey), network, ...taprootView(key, userKey, network) };
}

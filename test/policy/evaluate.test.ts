/**
 * The rule decision on its own, for the rules the cluster tests do not reach: selection by key id
 * and label, the default, frozen keys, schemes, derivation paths, signing hours, rates, opaque
 * transactions and Bitcoin networks.
 */
import { describe, expect, it } from 'vitest';
import { decide, pathAllowed, ruleFor, type SignFacts, type Usage } from '../../cluster/policy/evaluate.ts';
import { parsePolicy, PolicyError, type Policy } from '../../cluster/policy/document.ts';

const none: Usage = { lastMinute: 0, lastDay: 0, valueLastDay: 0n };
const facts = (over: Partial<SignFacts> = {}): SignFacts => ({
  keyId: 'k1',
  scheme: 'ecdsa-secp256k1',
  derivationPath: '',
  approvers: new Set(),
  deadline: 0,
  requestId: '',
  now: new Date('2026-11-30T10:00:00Z'), // a Monday
  ...over,
});
const policy = (rules: Policy['rules'], dflt: Policy['default'] = 'deny'): Policy => parsePolicy({ version: 1, rules, default: dflt });

describe('rule decision', () => {
  it('selects the first rule by id or label, else the default', () => {
    const p = policy([{ name: 'by-id', keys: { ids: ['k1'] } }, { name: 'by-label', keys: { labels: ['hot'] } }, { name: 'rest' }]);
    expect(ruleFor(p, 'k1', 'hot')?.name).toBe('by-id');
    expect(ruleFor(p, 'k2', 'hot')?.name).toBe('by-label');
    expect(ruleFor(p, 'k2', undefined)?.name).toBe('rest');
    expect(decide(policy([]), facts(), none)).toMatchObject({ allowed: false, rule: 'default' });
    expect(decide(policy([], 'allow'), facts(), none)).toMatchObject({ allowed: true, rule: 'default' });
  });

  it('refuses a frozen key, another scheme and a path off the list; `*` stands for one step', () => {
    expect(decide(policy([{ name: 'frozen', deny: true }]), facts(), none)).toMatchObject({ allowed: false, reason: 'the rule denies every request' });
    expect(decide(policy([{ name: 'ed', schemes: ['eddsa-ed25519'] }]), facts(), none)).toMatchObject({ allowed: false, reason: 'scheme ecdsa-secp256k1 is not allowed' });
    const paths = policy([{ name: 'p', paths: ['m', 'm/0/*'] }]);
    expect(decide(paths, facts({ derivationPath: 'm/0/7' }), none).allowed).toBe(true);
    expect(decide(paths, facts({ derivationPath: '' }), none).allowed).toBe(true);
    expect(decide(paths, facts({ derivationPath: 'm/1/7' }), none)).toMatchObject({ allowed: false, reason: 'derivation path m/1/7 is not allowed' });
    expect(pathAllowed(['m/0/*'], 'm/0/7/1')).toBe(false);
    expect(pathAllowed(['m/00/1'], 'm/0/1')).toBe(true); // pattern steps compare as numbers
  });

  it('allows signing only within its UTC hours and days', () => {
    const p = policy([{ name: 'office', hours: { from: 9, to: 17, days: [1, 2, 3, 4, 5] } }]);
    expect(decide(p, facts(), none).allowed).toBe(true);
    expect(decide(p, facts({ now: new Date('2026-11-30T17:00:00Z') }), none)).toMatchObject({ allowed: false, reason: expect.stringMatching(/9:00–17:00 UTC/) });
    expect(decide(p, facts({ now: new Date('2026-11-29T10:00:00Z') }), none).allowed).toBe(false); // Sunday
  });

  it('counts this signature against the rates', () => {
    const p = policy([{ name: 'r', rate: { perMinute: 3, perDay: 10 } }]);
    expect(decide(p, facts(), { ...none, lastMinute: 2, lastDay: 2 }).allowed).toBe(true);
    expect(decide(p, facts(), { ...none, lastMinute: 3, lastDay: 3 })).toMatchObject({ allowed: false, reason: 'rate limit: 3 signatures per minute' });
    expect(decide(p, facts(), { ...none, lastMinute: 0, lastDay: 10 })).toMatchObject({ allowed: false, reason: 'rate limit: 10 signatures per 24 h' });
  });

  it('refuses what a decoder could not account for, and a Bitcoin network other than the rule\'s', () => {
    const sol = policy([{ name: 's', solana: { maxValue: '10' } }]);
    expect(decide(sol, facts({ transaction: { chain: 'solana', transfers: [], opaque: ['instruction 0 calls program X'] } }), none)).toMatchObject({ allowed: false, reason: expect.stringMatching(/cannot tell where this transaction sends value/) });
    const btc = policy([{ name: 'b', bitcoin: { network: 'mainnet' } }]);
    expect(decide(btc, facts({ transaction: { chain: 'bitcoin', network: 'testnet', transfers: [] } }), none)).toMatchObject({ allowed: false, reason: 'bitcoin network testnet is not allowed' });
    expect(decide(btc, facts({ transaction: { chain: 'ethereum', chainId: 1, transfers: [] } }), none)).toMatchObject({ allowed: false, reason: 'ethereum transactions are not allowed' });
  });

  it('a policy naming an approver it does not define, or asking more approvals than approvers, is refused', () => {
    expect(() => parsePolicy({ version: 1, rules: [{ name: 'a', approvals: { required: 1, from: ['zed'] } }], default: 'deny' })).toThrow(PolicyError);
    expect(() => parsePolicy({ version: 1, approvers: { zed: '00'.repeat(32) }, rules: [{ name: 'a', approvals: { required: 2, from: ['zed'] } }], default: 'deny' })).toThrow(/requires 2 approvals from 1 approvers/);
    expect(() => parsePolicy({ version: 1, rules: [], default: 'deny', extra: true })).toThrow(PolicyError);
  });
});

/**
 * API credentials: bearer tokens with scopes, kept at rest only as SHA-256 digests.
 *
 * A tokens file lists `{ name, sha256, scopes }`; `mpc token create` generates a token, appends
 * its digest and prints the token once. `MPC_API_TOKEN` (or the config's `tokenFile`) still gives
 * one token with every scope, for a first start; every token must have at least 32 characters.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile, open } from 'node:fs/promises';
import { z } from 'zod';

export type Scope = 'keys:create' | 'keys:read' | 'sign' | 'admin';
export const ALL_SCOPES: readonly Scope[] = ['keys:create', 'keys:read', 'sign', 'admin'];
export const MIN_TOKEN_CHARS = 32;

/** A token the API accepts: its secret (tests, the single-token start) or only its digest (the tokens file). */
export type ApiToken = { readonly name?: string; readonly scopes: readonly Scope[] } & ({ readonly token: string } | { readonly sha256: string });

export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token).digest();

const tokensFileSchema = z.strictObject({
  tokens: z.array(
    z.strictObject({
      name: z.string().min(1).max(64),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected the token\'s SHA-256 in hex'),
      scopes: z.array(z.enum(['keys:create', 'keys:read', 'sign', 'admin'])).min(1),
    }),
  ),
});
type TokensFile = z.infer<typeof tokensFileSchema>;

/** Reads a tokens file; errors name the file and the bad field. */
export async function loadTokensFile(file: string): Promise<ApiToken[]> {
  const parsed = tokensFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const names = parsed.data.tokens.map((t) => t.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`${file}: token name ${dup} appears twice`);
  return parsed.data.tokens;
}

/** Refuses a token too short to be a secret. */
export function checkTokenStrength(token: string, where: string): string {
  if (token.length < MIN_TOKEN_CHARS) throw new Error(`${where}: an API token must have at least ${MIN_TOKEN_CHARS} characters`);
  return token;
}

/**
 * Generates a token with `scopes`, adds its digest to `file` (created if missing; replaced
 * atomically) and returns the token: the only time it exists outside its holder.
 */
export async function createToken(file: string, name: string, scopes: readonly Scope[]): Promise<string> {
  let current: TokensFile = { tokens: [] };
  try {
    current = tokensFileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (current.tokens.some((t) => t.name === name)) throw new Error(`a token named ${name} already exists in ${file}`);
  for (const s of scopes) if (!ALL_SCOPES.includes(s)) throw new Error(`unknown scope ${s} (scopes: ${ALL_SCOPES.join(', ')})`);
  const token = randomBytes(32).toString('base64url');
  const next: TokensFile = { tokens: [...current.tokens, { name, sha256: tokenDigest(token).toString('hex'), scopes: [...scopes] }] };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  const fh = await open(tmp, 'r');
  await fh.sync();
  await fh.close();
  await rename(tmp, file);
  return token;
}

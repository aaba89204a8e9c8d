/**
 * A node's ledger in a process that dies by SIGKILL at a chosen point of a presignature's life
 * (test/node/presignatures.test.ts): `taken` right after `take` resolved (the durable mark is
 * done, nothing was sent yet), `saved` right after the presignature was stored.
 */
import { join } from 'node:path';
import { createLocalProtector } from '../../cluster/providers/local.ts';
import { LevelBackend } from '../../node/store/level-backend.ts';
import { presignatureId } from '../../node/store/presignatures.ts';
import { ShareSealer } from '../../node/store/sealer.ts';
import { ShareStore } from '../../node/store/share-store.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import { storedKey } from './stored-key.ts';

const [dir, when] = process.argv.slice(2) as [string, 'taken' | 'saved'];
const store = new ShareStore({ backend: await LevelBackend.open(join(dir, 'node')), sealer: new ShareSealer(await createLocalProtector({ type: 'local', keyFile: join(dir, 'kek') })), nodeId: 'node-1' });
if (!(await store.hasKey('k'))) await store.saveShare(storedKey('k'), new Uint8Array(32).fill(1));
const id = presignatureId(new Uint8Array(32).fill(5), 0);
await store.savePresignatures([{ keyId: 'k', epoch: 0, id, signers: [1, 2] as PartyId[], signingKey: new Uint8Array(32).fill(9), secret: new Uint8Array(64).fill(3) }]);
if (when === 'taken') {
  const taken = await store.takePresignature('k', id);
  process.stdout.write(taken ? 'taken\n' : 'missing\n');
} else {
  process.stdout.write('saved\n');
}
process.kill(process.pid, 'SIGKILL');

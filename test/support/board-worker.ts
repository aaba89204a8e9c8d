/** A thread that checks and retires pairs on a shared retirement board, as a protocol worker does. */
import { parentPort, workerData } from 'node:worker_threads';
import type { PartyId } from '../../protocol/core/ids.ts';
import { RetirementView } from '../../node/session/retirement-board.ts';

export type BoardRequest =
  | { readonly op: 'usable' | 'retire'; readonly slot: number; readonly peer: number }
  /** Takes the slot's lock, says 'locked', waits until `go[0]` is set, retires `peer`, lets go. */
  | { readonly op: 'hold-then-retire'; readonly slot: number; readonly peer: number; readonly go: SharedArrayBuffer }
  /** Says 'entering', then checks `peer` under the slot's lock. */
  | { readonly op: 'exclusive-usable'; readonly slot: number; readonly peer: number };

const view = new RetirementView((workerData as { board: SharedArrayBuffer }).board);
const port = parentPort!;
port.on('message', (m: BoardRequest) => {
  const peer = m.peer as PartyId;
  switch (m.op) {
    case 'usable':
      return port.postMessage(view.usable(m.slot, peer));
    case 'retire':
      return port.postMessage(view.retire(m.slot, peer));
    case 'hold-then-retire': {
      const go = new Int32Array(m.go);
      return port.postMessage(
        view.exclusive(m.slot, () => {
          port.postMessage('locked');
          Atomics.wait(go, 0, 0);
          return view.retire(m.slot, peer);
        }),
      );
    }
    case 'exclusive-usable':
      port.postMessage('entering');
      return port.postMessage(view.exclusive(m.slot, () => view.usable(m.slot, peer)));
  }
});

/**
 * Progress of a multi-node operation on the event stream: `started`, one `node_done` per node
 * whose part is finished (`done` of `of`), then `completed`. Clients (the CLI) show it while a
 * key generation, refresh, resharing, repair or erasure runs.
 */
import type { NodeId, RequestContext, SessionEvent } from '../service.ts';

type Operation = Extract<SessionEvent, { type: 'started' }>['operation'];

export async function withProgress<T>(
  rc: RequestContext,
  session: string,
  operation: Operation,
  keyId: string,
  nodes: readonly NodeId[],
  /** `nodeDone(node)` reports a node finished and answers how many have. */
  run: (nodeDone: (node: NodeId) => number) => Promise<T>,
): Promise<T> {
  rc.emit({ type: 'started', session, operation, keyId, nodes });
  const done = new Set<NodeId>();
  const nodeDone = (node: NodeId) => {
    if (!done.has(node)) {
      done.add(node);
      rc.emit({ type: 'node_done', session, node, done: done.size, of: nodes.length });
    }
    return done.size;
  };
  try {
    const out = await run(nodeDone);
    rc.emit({ type: 'completed', session, ok: true });
    return out;
  } catch (e) {
    rc.emit({ type: 'completed', session, ok: false, error: (e as Error).message });
    throw e;
  }
}

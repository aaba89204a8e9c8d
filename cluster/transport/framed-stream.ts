/**
 * Length-prefixed frames over a libp2p stream (which delivers arbitrary chunks). Chunks are
 * kept in a list and joined once per complete frame, so reassembly is linear in the frame size;
 * a length above the current limit ends the stream before anything more is buffered.
 */
import type { Stream } from '@libp2p/interface';
import { HandshakeError } from './hybrid.ts';

/** One stream's frames, read in order or pushed to a sink. */
export class FramedStream {
  private readonly stream: Stream;
  private maxFrame: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly queue: Uint8Array[] = [];
  private waiter: { resolve: (f: Uint8Array) => void; reject: (e: Error) => void } | undefined;
  private sink: ((frame: Uint8Array) => void) | undefined;
  private refuse: (() => void) | undefined;
  private closeHandlers: (() => void)[] = [];
  private ended = false;

  constructor(stream: Stream, maxFrame: number) {
    this.stream = stream;
    this.maxFrame = maxFrame;
    stream.addEventListener('message', (e) => this.push(e.data.subarray()));
    stream.addEventListener('close', () => this.end());
  }

  /** Raises (or lowers) the frame limit, e.g. from the handshake's to the channel's. */
  setMaxFrame(bytes: number): void {
    this.maxFrame = bytes;
  }

  /** From now on any byte from the peer ends the stream (outbound streams carry one direction). */
  refuseData(onRefused: () => void): void {
    this.refuse = onRefused;
    if (this.buffered || this.queue.length) this.refused();
  }

  next(timeoutMs: number): Promise<Uint8Array> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(new HandshakeError('stream closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new HandshakeError(`no handshake message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** From now on, frames go to `sink` (after any already queued). */
  onFrames(sink: (frame: Uint8Array) => void): void {
    this.sink = sink;
    for (const f of this.queue.splice(0)) sink(f);
  }

  onClose(handler: () => void): void {
    if (this.ended) handler();
    else this.closeHandlers.push(handler);
  }

  async write(frame: Uint8Array): Promise<void> {
    if (this.ended) throw new Error('stream closed');
    const header = Buffer.alloc(4);
    header.writeUInt32BE(frame.length);
    if (!this.stream.send(Buffer.concat([header, frame]))) await this.stream.onDrain();
  }

  abort(): void {
    this.stream.abort(new Error('closed by peer policy'));
    this.end();
  }

  /** Ends our side after what was written is sent (a rekeyed channel's last frames still arrive). */
  async closeGracefully(): Promise<void> {
    try {
      await this.stream.close();
    } catch {
      this.abort();
    }
    this.end();
  }

  private refused(): void {
    const notify = this.refuse;
    this.chunks = [];
    this.buffered = 0;
    this.abort();
    notify?.();
  }

  private push(chunk: Uint8Array): void {
    if (this.ended) return;
    if (this.refuse) return this.refused();
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : Buffer.concat(this.chunks, 4);
      const length = head.readUInt32BE(0);
      if (length > this.maxFrame) {
        this.abort(); // oversized frame: refuse the whole stream rather than buffer it
        return;
      }
      if (this.buffered < 4 + length) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const frame = new Uint8Array(all.subarray(4, 4 + length));
      const rest = all.subarray(4 + length);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve(frame);
      } else if (this.sink) this.sink(frame);
      else this.queue.push(frame);
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.chunks = [];
    this.buffered = 0;
    this.waiter?.reject(new HandshakeError('stream closed'));
    this.waiter = undefined;
    for (const h of this.closeHandlers.splice(0)) h();
  }
}

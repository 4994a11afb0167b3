// Sends part of an open file straight to the HTTP response in large reads: Node's default 64 KiB
// stream chunks fall well short of nginx's sendfile on loopback, 1 MiB reads written as they come
// keep up with it. The buffers come from a small pool and go back to it only when the socket has
// written them, so a steady download allocates nothing per chunk: a fresh 1 MiB external buffer per
// chunk lets V8's external-memory heuristics drive full collections that cost more than the copy.
// Bytes count as sent once handed to the socket: when a connection breaks that overstates what
// arrived by what sat in buffers (the counting rule's loss allowance covers it), and never
// understates it, so breaking off transfers on purpose gets nothing for free.
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

export const readBufferBytes = 1 << 20;

/** Enough for a few downloads' chunks in flight; past it a returned buffer is left to the collector. */
const maxPooledBuffers = 16;
const pooled: Buffer[] = [];

function takeBuffer(): Buffer {
  return pooled.pop() ?? Buffer.allocUnsafeSlow(readBufferBytes);
}

function giveBack(buffer: Buffer): void {
  if (pooled.length < maxPooledBuffers) pooled.push(buffer);
}

/** How many buffers wait in the pool (for tests). */
export function pooledBufferCount(): number {
  return pooled.length;
}

export interface StreamOutcome {
  bytesSent: number;
  /** Every byte of the range reached the socket and the response ended normally. */
  completed: boolean;
}

export async function streamFileRange(handle: FileHandle, res: ServerResponse, start: number, length: number): Promise<StreamOutcome> {
  let closed = res.destroyed;
  let wake: (() => void) | undefined;
  const onClose = () => {
    closed = true;
    wake?.();
  };
  res.once('close', onClose);
  const waitFor = (event: 'drain' | 'finish') =>
    new Promise<void>((resolve) => {
      if (closed || (event === 'finish' && res.writableFinished)) return resolve();
      wake = resolve;
      res.once(event, () => resolve());
    });
  let sent = 0;
  let position = start;
  let remaining = length;
  try {
    while (remaining > 0 && !closed) {
      // A read that throws leaves its buffer to the collector; the catch below ends the response.
      const buffer = takeBuffer();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(readBufferBytes, remaining), position);
      if (bytesRead === 0 || closed) {
        // bytesRead 0: the file shrank under us, so Content-Length can no longer be met.
        giveBack(buffer);
        break;
      }
      position += bytesRead;
      remaining -= bytesRead;
      // Back to the pool only once written: until then the socket may still read from it.
      const flowing = res.write(buffer.subarray(0, bytesRead), (error) => {
        if (!error) giveBack(buffer);
      });
      sent += bytesRead;
      if (!flowing) await waitFor('drain');
    }
    if (remaining === 0 && !closed) {
      res.end();
      await waitFor('finish');
      return { bytesSent: sent, completed: res.writableFinished };
    }
    res.destroy();
    return { bytesSent: sent, completed: false };
  } catch (error) {
    res.destroy(error as Error);
    return { bytesSent: sent, completed: false };
  } finally {
    res.off('close', onClose);
    await handle.close().catch(() => undefined);
  }
}

// Sends part of an open file straight to the HTTP response in large reads. Node's default 64 KiB
// stream chunks reach about a third to a half of nginx's sendfile on loopback; 1 MiB reads written
// as they come (measured in bench/downloads.ts: 512 KiB to 1 MiB is the sweet spot, 4 MiB is
// slower again) match or beat it. Each chunk is a fresh buffer because the socket may still hold
// the previous one. Bytes count as sent once handed to the socket: when a connection breaks that
// overstates what arrived by what sat in buffers (the counting rule's loss allowance covers it),
// and never understates it, so breaking off transfers on purpose gets nothing for free.
import type { FileHandle } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

export const readBufferBytes = 1 << 20;

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
      const buffer = Buffer.allocUnsafeSlow(Math.min(readBufferBytes, remaining));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break; // the file shrank under us: Content-Length can no longer be met
      position += bytesRead;
      remaining -= bytesRead;
      const flowing = res.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
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

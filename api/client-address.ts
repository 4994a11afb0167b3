// The buyer's address for rate limits and the download log. Behind a reverse proxy the socket's
// peer is the proxy, so X-Forwarded-For is believed only when the peer is a trusted proxy, and
// then the right-most address that is not itself a trusted proxy is the client.
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';

function socketAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

const normalise = (address: string) => address.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

export function clientAddress(c: Context, trustedProxies: readonly string[]): string {
  const peer = normalise(socketAddress(c) ?? 'unknown');
  if (trustedProxies.length === 0 || !trustedProxies.includes(peer)) return peer;
  const forwarded = (c.req.header('x-forwarded-for') ?? '').split(',').map(normalise).filter(Boolean);
  for (let i = forwarded.length - 1; i >= 0; i--) {
    if (!trustedProxies.includes(forwarded[i]!)) return forwarded[i]!;
  }
  return forwarded[0] ?? peer;
}

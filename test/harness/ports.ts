import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

// Ports are picked below the kernel's ephemeral range (ip_local_port_range), where the OS never
// hands out a number on its own. A port found by listen(0) is released before its server binds
// it, and in that gap the OS may give the same number to another listen(0) or to an outgoing
// connection: seen in CI, where the Temporal dev server's internal services (which pick their own
// ports that way) took the frontend port picked for it, and it failed to start.
const lowest = 20_000;

function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > lowest + 1000 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

const below = ephemeralStart();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port free on 127.0.0.1 right now, outside the range the OS picks ports from itself. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomInt(lowest, below);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${lowest} and ${below} on 127.0.0.1 after 200 tries`);
}

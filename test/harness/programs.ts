// The programs some tests and benchmarks drive that npm does not bring (Chromium, nginx, wrk, minisign):
// where each is found, and what to install when it is not. A test that needs a missing one skips
// with one loud line; under CI=true it runs and fails instead, so CI never passes by skipping.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export interface ExternalProgram {
  name: string;
  /** The executable, or undefined when it is not installed. */
  path: string | undefined;
  /** Where it was looked for, for the message when it was not found. */
  looked: string;
  /** What to do to get it, in one sentence. */
  install: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` on PATH (a few lines, so no dependency for it). */
function onPath(names: string[]): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      if (isExecutable(path.join(dir, name))) return path.join(dir, name);
    }
  }
  return undefined;
}

/** `variable`, when set, is the only place looked: a wrong setting is reported, not worked around. */
function find(name: string, variable: string, names: string[], places: (string | undefined)[], install: string): ExternalProgram {
  const fromEnv = process.env[variable];
  if (fromEnv) return { name, path: isExecutable(fromEnv) ? fromEnv : undefined, looked: `${variable}=${fromEnv}`, install };
  const candidates = [onPath(names), ...places].filter((p): p is string => p !== undefined);
  return {
    name,
    path: candidates.find(isExecutable),
    looked: `${names.join(', ')} on PATH, ${places.filter(Boolean).join(', ')}; or set ${variable}`,
    install,
  };
}

/** Where playwright-core keeps the Chromium that `npx playwright-core install chromium` downloads. */
function playwrightChromium(): string | undefined {
  try {
    return chromium.executablePath();
  } catch {
    return undefined; // a platform Playwright has no build for
  }
}

export function findChromium(): ExternalProgram {
  return find(
    'Chromium',
    'CHROMIUM_PATH',
    ['chromium', 'chromium-browser'],
    ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/Applications/Chromium.app/Contents/MacOS/Chromium', playwrightChromium()],
    'install it (Debian/Ubuntu: apt-get install chromium; macOS: brew install --cask chromium; anywhere: npx playwright-core install chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable.',
  );
}

export function findNginx(): ExternalProgram {
  return find(
    'nginx',
    'NGINX_PATH',
    ['nginx'],
    ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/opt/homebrew/bin/nginx', '/usr/local/bin/nginx'],
    'install it (Debian/Ubuntu: apt-get install nginx-light; macOS: brew install nginx) or set NGINX_PATH to its executable.',
  );
}

export function findWrk(): ExternalProgram {
  return find(
    'wrk',
    'WRK_PATH',
    ['wrk'],
    ['/usr/bin/wrk', '/opt/homebrew/bin/wrk', '/usr/local/bin/wrk'],
    'install it (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk) or set WRK_PATH to its executable.',
  );
}

/** The signed-checksums test verifies Keyship's signatures with the real minisign. */
export function findMinisign(): ExternalProgram {
  return find(
    'minisign',
    'MINISIGN_PATH',
    ['minisign'],
    ['/usr/bin/minisign', '/opt/homebrew/bin/minisign', '/usr/local/bin/minisign'],
    'install it (Debian/Ubuntu: apt-get install minisign; macOS: brew install minisign) or set MINISIGN_PATH to its executable.',
  );
}

export function missingSentence(program: ExternalProgram): string {
  return `${program.name} was not found (looked at ${program.looked}); ${program.install}`;
}

const ci = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

/**
 * The `skip` option for a suite that needs `program`: false when it is installed. Without it, the
 * reason (test/run.ts gathers these at the end); under CI, false, so the suite runs and fails on
 * requireProgram().
 */
export function skipWithout(program: ExternalProgram): string | false {
  if (program.path || ci) return false;
  return `needs ${program.name}: ${missingSentence(program)}`;
}

/** The program's path; a missing one throws the sentence that says what to install. */
export function requireProgram(program: ExternalProgram): string {
  if (program.path) return program.path;
  throw new Error(`${missingSentence(program)}${ci ? ' (CI=true: a missing program fails the run instead of skipping its tests.)' : ''}`);
}

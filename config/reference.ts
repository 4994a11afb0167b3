// docs/configuration.md, generated from the schema in config/env.ts so the reference cannot
// disagree with the defaults: `npm run docs:config` writes it, a unit test checks it is current.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { environmentVariables } from './env';

export const referencePath = path.resolve(__dirname, '..', 'docs', 'configuration.md');

const cell = (value: string) => value.replace(/\|/g, '\\|');

function defaultCell(defaultText: string | undefined): string {
  if (defaultText === undefined) return 'unset';
  if (defaultText === '') return 'empty';
  return `\`${cell(defaultText)}\``;
}

/** The reference's Markdown: a short preface, then one row per variable in the schema's order. */
export function configurationReference(): string {
  const rows = environmentVariables.map(
    ({ name, defaultText, description, secret }) =>
      `| \`${name}\` | ${defaultCell(defaultText)} | ${cell(description)}${secret ? ' (secret: masked in errors and logs)' : ''} |`,
  );
  return [
    '# Configuration',
    '',
    '<!-- Generated from config/env.ts by `npm run docs:config`; edit the schema there, not this file. -->',
    '',
    'Keyship reads these environment variables at start and checks them all; a bad or missing value stops',
    'the process with one sentence naming the variable, what is wrong and how to fix it. An empty variable',
    'counts as unset. The defaults fit the embedded stack of `npm start`. Durations take `s`, `m`, `h` or `d`',
    '(`90m`, `72h`, `3d`) or a bare number of seconds. `npm start` also reads a few variables of its own for the',
    'servers it starts (their ports, its data folder): see the README.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (require.main === module) {
  writeFileSync(referencePath, configurationReference());
  console.log(`wrote ${path.relative(process.cwd(), referencePath)} (${environmentVariables.length} variables)`);
}

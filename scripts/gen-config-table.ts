import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigTable } from '../src/server/config.js';

/** Rewrites the configuration table of README.md (between its markers) from CONFIG_VARS. */
const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const text = readFileSync(readme, 'utf8');
const start = '<!-- config:start -->';
const end = '<!-- config:end -->';
const [head, rest] = text.split(start);
const tail = rest?.split(end)[1];
if (head === undefined || tail === undefined) throw new Error('README.md lacks the config markers');
writeFileSync(readme, `${head}${start}\n${renderConfigTable()}${end}${tail}`);

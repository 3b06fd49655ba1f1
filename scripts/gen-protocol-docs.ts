import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderProtocolDoc } from '../src/protocol/docs.js';

/** `npm run docs`: regenerates docs/protocol.md from the definitions in src/protocol. */
const target = fileURLToPath(new URL('../docs/protocol.md', import.meta.url));
writeFileSync(target, renderProtocolDoc());
process.stdout.write(`wrote ${target}\n`);

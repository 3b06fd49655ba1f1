import { readFileSync } from 'node:fs';
import t from 'tap';
import { renderConfigTable } from '../../src/server/config.js';

t.test('the README configuration table matches the code (run `npm run docs`)', (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.split('<!-- config:start -->\n')[1]?.split('<!-- config:end -->')[0];
  t.equal(table, renderConfigTable());
  t.end();
});

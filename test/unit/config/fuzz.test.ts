// The config loader against thousands of generated inputs: mutated bytes of
// the shipped examples and random values put in random places of valid
// configs. Every input either loads or fails with a ConfigError whose issues
// all point at a line and column of the file; nothing else may escape.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../../src/config/errors.js';
import { parseConfigText } from '../../../src/config/load.js';
import { rng } from '../../rng.js';

const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const seeds = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => readFileSync(EXAMPLES + f, 'utf8'));

const NASTY_TEXT = [
  '',
  ' ',
  ':',
  '- ',
  '{',
  '[',
  '"',
  "'",
  '&a',
  '*a',
  '!!binary',
  '%YAML 1.1',
  '---',
  '...',
  '\t',
  '\0',
  '\uFFFF',
  '🙂',
  '\r\n',
  '<<: *a',
  '? ',
  '|',
  '>',
];
const NASTY_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  -1e308,
  0.5,
  NaN,
  '',
  ' ',
  '10',
  '10x',
  '-1s',
  '0s',
  '1e9h',
  '999999999999d',
  '198.18.11.5/33',
  '::/129',
  '2001:db8::1/64',
  'fe80::1%eth0',
  'a'.repeat(10_000),
  'eth0:1',
  'eth/0',
  '../../etc',
  [],
  [[]],
  {},
  { a: 1 },
  ['x'],
  [null],
];

function mutateBytes(text: string, r: () => number): string {
  let s = text;
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (s.length + 1));
    const kind = Math.floor(r() * 4);
    if (kind === 0)
      s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 20)); // delete a run
    else if (kind === 1)
      s = s.slice(0, at) + NASTY_TEXT[Math.floor(r() * NASTY_TEXT.length)] + s.slice(at); // insert a token
    else if (kind === 2)
      s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x3000)) + s.slice(at + 1); // replace a char
    else s = s.slice(0, at); // truncate
  }
  return s;
}

/** Replace one random node of the parsed document with a nasty value (or delete it). */
function mutateTree(text: string, r: () => number): string {
  const root = parse(text) as unknown;
  const nodes: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => (nodes.push({ parent: v, key: i }), walk(x)));
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) (nodes.push({ parent: v as Record<string, unknown>, key: k }), walk(x));
  };
  walk(root);
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits && nodes.length; e++) {
    const { parent, key } = nodes[Math.floor(r() * nodes.length)]!;
    const value = NASTY_VALUES[Math.floor(r() * NASTY_VALUES.length)];
    if (r() < 0.15 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
    else (parent as Record<string | number, unknown>)[key] = value;
  }
  return stringify(root);
}

function loadsOrExplains(text: string, what: string): 'ok' | 'error' {
  try {
    parseConfigText(text, 'fuzz.yaml');
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof ConfigError, `${what}: threw ${String(err)} for input:\n${text.slice(0, 2000)}`);
    assert.ok(err.issues.length > 0, `${what}: ConfigError without issues`);
    for (const issue of err.issues) {
      assert.equal(issue.file, 'fuzz.yaml');
      assert.ok(
        Number.isInteger(issue.line) && issue.line >= 1 && Number.isInteger(issue.column) && issue.column >= 1,
        `${what}: issue without a position: ${JSON.stringify(issue)}`,
      );
      assert.ok(
        issue.message.length > 0 && issue.message.length < 500,
        `${what}: unhelpful message ${JSON.stringify(issue.message.slice(0, 300))}…`,
      );
    }
    return 'error';
  }
}

test('the examples load (the fuzz starts from valid files)', () => {
  assert.ok(seeds.length >= 3);
  for (const s of seeds) assert.equal(loadsOrExplains(s, 'example'), 'ok');
});

test('2000 byte-mutated configs: each loads or fails with positioned ConfigError issues', () => {
  const r = rng(0x1b3d);
  const outcomes = { ok: 0, error: 0 };
  for (let i = 0; i < 2000; i++)
    outcomes[loadsOrExplains(mutateBytes(seeds[i % seeds.length]!, r), `byte mutant ${i}`)]++;
  // the mutations must actually reach the validator, not only the YAML parser
  assert.ok(outcomes.error > 500 && outcomes.ok > 50, JSON.stringify(outcomes));
});

test('2000 tree-mutated configs (random values in random places): same', () => {
  const r = rng(0x5eed);
  const outcomes = { ok: 0, error: 0 };
  for (let i = 0; i < 2000; i++)
    outcomes[loadsOrExplains(mutateTree(seeds[i % seeds.length]!, r), `tree mutant ${i}`)]++;
  assert.ok(outcomes.error > 1000, JSON.stringify(outcomes));
});

test('resource attacks: alias bombs and deep nesting are refused with a position', () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    ...Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
    ),
  ].join('\n');
  assert.equal(loadsOrExplains(bomb, 'alias bomb'), 'error');
  assert.equal(loadsOrExplains(`groups: ${'['.repeat(5000)}${']'.repeat(5000)}`, 'deep nesting'), 'error');
  assert.equal(loadsOrExplains('x'.repeat(1 << 20), 'one huge scalar'), 'error');
});

// The admin socket's framing: one JSON message per line, whatever the chunks.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter, toLine } from '../../../src/admin/protocol.js';

test('lines come out whole however the text is cut into chunks', () => {
  const text = `${toLine({ op: 'status' })}${toLine({ ok: true, result: 'a\nb' })}${toLine({ op: 'reload' })}`;
  for (let cut = 0; cut <= text.length; cut++) {
    const lines = new LineSplitter();
    const got = [...lines.push(text.slice(0, cut)), ...lines.push(text.slice(cut))];
    assert.deepEqual(
      got.map((l) => JSON.parse(l) as unknown),
      [{ op: 'status' }, { ok: true, result: 'a\nb' }, { op: 'reload' }],
      `cut at ${cut}`,
    );
    assert.equal(lines.pendingLength, 0);
  }
});

test('a line without its newline waits, and its length is known', () => {
  const lines = new LineSplitter();
  assert.deepEqual(lines.push('{"op":'), []);
  assert.equal(lines.pendingLength, 6);
  assert.deepEqual(lines.push('"status"}\n{"op"'), ['{"op":"status"}']);
  assert.equal(lines.pendingLength, 5);
  assert.deepEqual(lines.push('\n\n'), ['{"op"', '']);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RichNode, lastParseSteps, linksOf, parseRichText, richTextToPlain } from './rich-text.ts';

const MARK = { bold: '*', italic: '_', strike: '~', spoiler: '||' } as const;

/** The source a tree stands for: equal to the input when parsing lost and invented nothing. */
function source(nodes: readonly RichNode[]): string {
  return nodes
    .map((n) => {
      switch (n.type) {
        case 'text':
        case 'link':
          return n.text;
        case 'code':
          return `\`${n.text}\``;
        case 'pre':
          return `\`\`\`${n.text}\`\`\``;
        default:
          return `${MARK[n.type]}${source(n.children)}${MARK[n.type]}`;
      }
    })
    .join('');
}

function check(nodes: readonly RichNode[], depth = 0): number {
  let deepest = depth;
  for (const n of nodes) {
    assert.ok(['text', 'bold', 'italic', 'strike', 'spoiler', 'code', 'pre', 'link'].includes(n.type), n.type);
    if (n.type === 'link') {
      assert.equal(n.url, n.text);
      const u = new URL(n.url);
      assert.ok(u.protocol === 'http:' || u.protocol === 'https:', n.url);
      assert.doesNotMatch(n.url, /[\s<>"'`]/);
    }
    if ('children' in n) {
      assert.ok(n.children.length > 0, 'a styled span is never empty');
      deepest = Math.max(deepest, check(n.children, depth + 1));
    }
  }
  return deepest;
}

test('parses WhatsApp markers, spoilers, code and links', () => {
  assert.deepEqual(parseRichText('*bold* _it_ ~gone~ ||secret|| `x<y` ok'), [
    { type: 'bold', children: [{ type: 'text', text: 'bold' }] },
    { type: 'text', text: ' ' },
    { type: 'italic', children: [{ type: 'text', text: 'it' }] },
    { type: 'text', text: ' ' },
    { type: 'strike', children: [{ type: 'text', text: 'gone' }] },
    { type: 'text', text: ' ' },
    { type: 'spoiler', children: [{ type: 'text', text: 'secret' }] },
    { type: 'text', text: ' ' },
    { type: 'code', text: 'x<y' },
    { type: 'text', text: ' ok' },
  ]);
  assert.deepEqual(parseRichText('*bold _and italic_*'), [{ type: 'bold', children: [{ type: 'text', text: 'bold ' }, { type: 'italic', children: [{ type: 'text', text: 'and italic' }] }] }]);
  assert.deepEqual(parseRichText('```\nconst a = *b*;\n```'), [{ type: 'pre', text: '\nconst a = *b*;\n' }]);
  assert.deepEqual(parseRichText('see https://example.com/a_b_c, then'), [
    { type: 'text', text: 'see ' },
    { type: 'link', url: 'https://example.com/a_b_c', text: 'https://example.com/a_b_c' },
    { type: 'text', text: ', then' },
  ]);
  assert.deepEqual(parseRichText('*https://example.com/x*'), [{ type: 'bold', children: [{ type: 'link', url: 'https://example.com/x', text: 'https://example.com/x' }] }]);
});

test('leaves text plain where a marker is not a marker', () => {
  for (const plain of ['snake_case_name', '2*3*4', '* not bold *', '*open only', 'a ~ b ~ c', '**', '``', '||||', '*across\nlines*', 'javascript:alert(1)', '`unclosed', 'mail@x_y_z.com']) {
    assert.deepEqual(parseRichText(plain), [{ type: 'text', text: plain }], plain);
  }
  assert.equal(linksOf(parseRichText('`https://in.code/x` and https://out.side/y')).join(), 'https://out.side/y');
});

test('a preview never shows a spoiler', () => {
  assert.equal(richTextToPlain(parseRichText('the killer is ||the butler|| *really*')), 'the killer is ▒▒▒ really');
  assert.equal(richTextToPlain(parseRichText('||x||'), { hideSpoilers: false }), 'x');
});

// A small deterministic generator (xorshift), so a failure reproduces from its seed.
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const PIECES = ['*', '_', '~', '||', '`', '```', ' ', '\n', 'a', 'é', '😀', '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "'", '&lt;', 'https://ex.com/p_q*r', 'http://a.b/(x)', 'javascript:alert(1)', 'data:text/html,<b>', '\u202e', '\u0000', '.', ','];

test('fuzz: whatever the input, the tree is faithful, shallow and carries only safe links', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const next = rng(seed);
    const length = Math.floor(next() * 60);
    let input = '';
    for (let i = 0; i < length; i++) input += PIECES[Math.floor(next() * PIECES.length)];
    const tree = parseRichText(input);
    assert.equal(source(tree), input, `seed ${seed}: ${JSON.stringify(input)}`);
    assert.ok(check(tree) <= 4, `seed ${seed}: nested too deep`);
    // Markup characters only ever reach a renderer as text: nothing in the tree is markup itself.
    for (const node of JSON.stringify(tree).matchAll(/"type":"(\w+)"/g)) assert.ok(node[1] !== 'html');
  }
});

test('parsing stays linear on adversarial input: steps grow with the text, never faster', () => {
  const shapes = ['*a ', '_', '*', '`', '||x ', ' ~a', 'https://a.bc/', '```', '*_~||`', 'a*b_c~d', '*'.repeat(50) + 'a', '_a *b ~c ||d `e'];
  // Seven tables (line ends, four markers, two code tables), one scan step and four marker checks.
  const perChar = 12;
  for (const shape of shapes) {
    const count = (n: number) => {
      const text = shape.repeat(Math.ceil(n / shape.length)).slice(0, n);
      const tree = parseRichText(text);
      assert.equal(source(tree), text);
      return lastParseSteps();
    };
    const small = count(20_000);
    const large = count(80_000);
    // Steps, not milliseconds: the same on any machine under any load. Linear growth is 4× for 4×
    // the text (a quadratic parser would be 16×), and every character costs a bounded number.
    assert.ok(large <= small * 4.05, `${JSON.stringify(shape)}: ${small} → ${large} steps`);
    assert.ok(large <= 80_000 * perChar, `${JSON.stringify(shape)}: ${large} steps for 80,000 characters`);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_TITLE, parsePageMeta } from './link-preview-html.ts';

test('reads Open Graph first, then Twitter cards, then the page’s own title and description', () => {
  const html = `<!doctype html><html><head>
    <title>Plain title</title>
    <meta name="description" content="Plain description">
    <meta property="og:title" content="OG &amp; title">
    <meta content='OG description' property='og:description'>
    <meta name="twitter:image" content="/img/card.png">
    <meta property="og:site_name" content="Example">
  </head><body><meta property="og:image" content="https://evil.example/late.png"></body></html>`;
  assert.deepEqual(parsePageMeta(html), { title: 'OG & title', description: 'OG description', siteName: 'Example', image: '/img/card.png' });
  assert.deepEqual(parsePageMeta('<title>Only &lt;this&gt;</title>'), { title: 'Only <this>', description: null, siteName: null, image: null });
});

test('returns plain text: markup stays text, control and bidi characters go, long values are cut', () => {
  const meta = parsePageMeta(`<meta property="og:title" content="&lt;script&gt;alert(1)&lt;/script&gt;\u202e\u0007 x"><meta property="og:description" content="${'a'.repeat(3000)}">`);
  assert.equal(meta.title, '<script>alert(1)</script> x');
  assert.ok(meta.description!.length <= 401);
  assert.ok(parsePageMeta(`<title>${'😀'.repeat(300)}</title>`).title!.length <= MAX_TITLE * 2 + 1);
});

test('stays fast on hostile pages (unterminated tags, huge attributes)', () => {
  for (const html of ['<meta '.repeat(100_000), `<meta content="${'x'.repeat(1_000_000)}`, '<title>'.repeat(100_000), `<meta a=${'b'.repeat(500_000)}>`]) {
    const t0 = performance.now();
    parsePageMeta(html);
    assert.ok(performance.now() - t0 < 2000, `${html.slice(0, 20)}… took too long`);
  }
});

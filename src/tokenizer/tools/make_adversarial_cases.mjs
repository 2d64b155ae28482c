// Writes src/tokenizer/tests/data/adversarial_cases.jsonl: hard cases for the pre-tokenizer and the
// merge, with the ids npm tiktoken 1.0.22 (OpenAI's Rust core as WASM) gives for them. The unit
// tests compare sluice against this file; rerun this script only to add cases.
//
// Run from the repository root (needs tests/e2e/node_modules):
//   node src/tokenizer/tools/make_adversarial_cases.mjs > src/tokenizer/tests/data/adversarial_cases.jsonl
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.resolve('tests/e2e/package.json'));
const { get_encoding } = require('tiktoken');

const r = (s, n) => s.repeat(n);
const ordinary = {
  'whitespace runs': [
    r(' ', 100) + 'x', r('\t', 50), r(' \t \n', 30), 'x' + r(' ', 500) + '\n', 'x  \n\n  ',
    'x\n  ', 'x\n \n ', 'x\n\t', r('\n', 100), 'a\u00a0\u00a0b', '\u3000\u3000x', ' \u00a0 x',
    'a \u2003 b', 'x' + r(' ', 64) + 'y', r(' ', 129),
  ],
  'CR/LF mixtures': [
    'line1\r\nline2\rline3\n\rline4\r\n\r\n', r('\r\n', 50), '\r\r\n\n\r', ' \r\n \r\n x',
    'a \r\n b', ' !\r\n', '}\r\n\r\n{', 'x\r', '\r', '\r\n\r\nx', 'a\u2028b\u2029c', 'a\u0085b',
    'x\u0085', '\t\r\n\t',
  ],
  'digit runs': [
    '1234567890123', '١٢٣٤٥', '१२३४', '½¾²³', 'Ⅻ Ⅳ', '12.34e-5', 'x1234y', '0000000',
    '1 2 3 4 5', '3.14159265358979', r('1234567890', 50), '٣a٣', '①②③', '10,000,000.00',
  ],
  'contractions': [
    "I'M", "WE'LL", "they'RE", "it'S", "x'ſ", "'s", "''s", "'", "don't't", "rock'n'roll",
    "O'Neil's", "ABC'S", 'it’s', "l'été", "DON'T", "you'Ve", "'LL", "'sup", "y'all'd've",
    "HELLO'sworld", "Ǆ'S", "a'", "'re're", "5's", " 's", "\n's", "日本's", "e\u0301's",
  ],
  'emoji': [
    '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '❤️', '😀😃😄', '🇺🇸🇯🇵', 'a👍b', ' 👍 ', '#️⃣', '🧑🏿‍🦰 ok',
    r('🙂', 40),
  ],
  'CJK': [
    '日本語のテキストです。', '中文文本，还有标点。', '한국어 텍스트입니다', '漢字かなカナ',
    '東京Tokyo2024', r('日本', 200), '「引用」と（括弧）',
  ],
  'RTL scripts': [
    'مرحبا بالعالم', 'العربية ١٢٣', 'שָׁלוֹם עוֹלָם', 'سلام دنیا', 'السلام عليكم!', 'abc مرحبا 123',
  ],
  'combining marks and case classes': [
    'e\u0301', 'a\u0308\u0304', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇', '\u0301abc', ' \u0301', 'x\u20dd',
    '\u0301!', 'नमस्ते दुनिया', 'สวัสดีครับ', 'Ǆǅǆ', 'ǅungla', 'ʰʲʷ', 'ªº', 'ABCdef', 'abcDEF',
    'McDONALD', 'iPhone', 'HTTPServer', 'ÀÉÎõü', 'ΑΒΓαβγ', 'ПриветМир', '\u2160\u2161abc',
  ],
  'long words': [
    r('pneumonoultramicroscopicsilicovolcanoconiosis', 30), r('ab', 500), r('qwertyuiop', 50),
    r('ABCDEFGHIJ', 40), r('Ā', 300), r('!@#$%^&*()', 40), r('-', 300), r('=', 100) + '\n',
    r('a', 65), r('a', 64), r('z', 4097), 'https://example.com/' + r('path/', 40) + '?q=1&r=2',
    r('xY', 300), r('Ab', 100) + "'s",
  ],
  'ending in newlines': [
    'end\n', 'end\n\n', 'end\r\n', 'end \n ', 'end\n  ', '  \n', '\n \n', 'end.\n\n\n', '}\n',
    'end\t\n', 'end\u00a0\n',
  ],
  'code and symbols': [
    'x</div>\n', 'a//b///c', '!!//\n/', 'C:\\Windows\\path', '{"a": [1, 2, {"b": null}]}',
    'for (int i = 0; i < n; ++i) {\n    x += i;\n}\n', '    return x;\n', 'def f(x):\n\treturn x\n',
    '#include <stdio.h>\n', '$ ls -la | grep foo', 'a+=b', '<|endoftext|>', 'x<|fim_prefix|>y',
  ],
  'non-space formats and newer Unicode': [
    '\ufeffhello', 'a\u200bb', 'a\u180eb', 'soft\u00adhyphen', '\u{11F04}\u{11F05} Kawi',
    '\u{10570}\u{10571}', '\u{2EBF0}\u{2EBF1}', '\u{10D50}\u{10D51}', '\u{10940}\u{10941}',
    '\u{323B0}x', 'a\u{E0001}b', '\u{F0000}\u{10FFFD}',
  ],
};
const special = [
  'hello  <|endoftext|>', '<|endoftext|><|endoftext|>', 'a<|fim_prefix|>b<|fim_suffix|>c',
  '<|endoftext|  >', '<<|endoftext|>>', 'x\n  <|endoftext|>  y', '<|endofprompt|>',
  'text <|fim_middle|>\n', '<|endoftext', '<||endoftext|>',
];

const lines = [];
for (const name of ['cl100k_base', 'o200k_base']) {
  const enc = get_encoding(name);
  for (const [note, texts] of Object.entries(ordinary)) {
    for (const text of texts) {
      lines.push(JSON.stringify({ encoding: name, text, ids: [...enc.encode_ordinary(text)], note }));
    }
  }
  for (const text of special) {
    const ids = [...enc.encode(text, 'all')];
    lines.push(JSON.stringify({ encoding: name, text, ids, allowed_special: 'all',
                                note: 'special tokens' }));
  }
  enc.free();
}
console.log(lines.join('\n'));

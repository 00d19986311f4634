#!/usr/bin/env node
/* Ground truth for xlstm.h's tokenizer tests, from Hugging Face `tokenizers`
   (the Node binding, npm tokenizers@0.23.2):

     (cd /tmp/tokgt && npm install tokenizers@0.23.2)
     NODE_PATH=/tmp/tokgt/node_modules node tools/make_tokenizer_tests.js [NEOX_TOKENIZER_JSON]

   In tests/data/tokenizer/ it
     1. writes the generated texts gen_*.txt (a Shakespeare excerpt, long runs,
        a sample of Unicode table boundaries probed from HF itself, fuzz) and
        four small synthetic tokenizers synth_?/tokenizer.json with texts that
        exercise what GPT-NeoX's file does not (add_prefix_space, lstrip/rstrip/
        single_word, id reassignment and collisions, NFD, ignore_merges,
        use_regex false, unk/fuse_unk, byte_fallback, continuing_subword_prefix/
        end_of_word_suffix, merges as pairs, Sequence wrappers);
     2. writes X.ids (HF's ids, no special tokens added, space-separated, one
        line) for every text X.txt, and index.txt ("TOKENIZER TEXT" per line,
        TOKENIZER "neox" or a path under tests/data/tokenizer).
   Hand-written texts (accents.txt, cjk.txt, ...) are kept as they are.
   Texts are read as bytes and decoded the way xlstm_tokenize reads them:
   invalid UTF-8 becomes U+FFFD per maximal subpart, a BOM is kept.

     node tools/make_tokenizer_tests.js --exhaustive OUTDIR [NEOX_TOKENIZER_JSON]
   writes OUTDIR/unicode_all.txt (every code point in context) and its .ids
   for a one-off check against build/xlstm-tokenize (too big to commit). */
'use strict';
const fs = require('fs');
const path = require('path');
let tk;
try {
    tk = require('tokenizers');
} catch (e) {
    tk = require('/tmp/tokgt/node_modules/tokenizers');
}

const ROOT = path.resolve(__dirname, '..');
const DIR = path.join(ROOT, 'tests/data/tokenizer');
const args = process.argv.slice(2);
const exhaustive = args[0] === '--exhaustive' ? args.splice(0, 2)[1] : null;
const NEOX = args[0] || path.resolve(ROOT, '../shared/tokenizers/gpt-neox-20b/tokenizer.json');
const CORPUS = path.resolve(ROOT, '../shared/corpus/tinyshakespeare-train.txt');

/* deterministic PRNG (mulberry32) */
function rng(seed) {
    return () => {
        seed = (seed + 0x6D2B79F5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
const cp = (c) => String.fromCodePoint(c);
const isSurrogate = (c) => c >= 0xD800 && c < 0xE000;

/* ---- HF probes: the pre-tokenizer's classes and the normalizer's data ---- */
function probeUnicode() {
    const pt = tk.byteLevelPreTokenizer(false, true);
    const nfd = tk.nfdNormalizer();
    const cls = new Uint8Array(0x110000); /* 0 other, 1 letter, 2 number, 3 space */
    const marked = new Uint8Array(0x110000); /* HF knows a non-zero combining class */
    const dec = [];
    for (let c = 0; c < 0x110000; c++) {
        if (isSurrogate(c)) continue;
        const s = cp(c);
        if (c === 0x20) cls[c] = 3;
        else if (pt.preTokenizeString(s + 'a').length === 1) cls[c] = 1;
        else if (pt.preTokenizeString('1' + s).length === 1) cls[c] = 2;
        else if (pt.preTokenizeString('!' + s).length === 1) cls[c] = 0;
        else cls[c] = 3;
        const d = nfd.normalizeString(s);
        if (d !== s) {
            dec.push(c);
            continue;
        }
        /* a non-starter moves past U+0334 (class 1) or lets U+0345 (240) move past it */
        if (nfd.normalizeString('a' + s + '\u0334') !== 'a' + s + '\u0334' ||
            nfd.normalizeString('a\u0345' + s) !== 'a\u0345' + s)
            marked[c] = 1;
    }
    return { cls, marked, dec };
}

/* Texts that walk the Unicode tables' boundaries; step 1 = everything. */
function unicodeText(u, step) {
    const out = [];
    let k = 0;
    for (let c = 1; c < 0x110000; c++) { /* class boundaries: the last and first code point of each range */
        if (isSurrogate(c) || isSurrogate(c - 1) || u.cls[c] === u.cls[c - 1]) continue;
        if (k++ % step) continue;
        for (const x of [c - 1, c]) {
            const X = cp(x);
            out.push('a' + X + '1' + X + '!' + X + ' ' + X + 'b\n');
        }
    }
    /* combining classes: where a mark lands among references of class 1, 7, 9, 202, 220, 230, 232, 240 */
    const refs = '\u0334\u093C\u094D\u0327\u0316\u0301\u0315\u0345';
    k = 0;
    for (let c = 0; c < 0x110000; c++) {
        if (!u.marked[c] || k++ % step) continue;
        out.push('a' + cp(c) + refs + ' ' + refs + cp(c) + '\n');
    }
    k = 0; /* decompositions: the composite and its decomposed form */
    for (const c of u.dec) {
        if (c >= 0xAC00 && c <= 0xD7A3 && c % 97) continue; /* a sample of Hangul */
        if (k++ % step) continue;
        const d = cp(c).normalize('NFD');
        out.push(cp(c) + ' ' + d + ' x' + d + '\n');
    }
    return out.join('');
}

function fuzzText(n) {
    const r = rng(12345);
    const pool = ['a', 'b', 'Z', 'é', 'e\u0301', '\u0301', '\u0323', '\u0345', '\u0334', '\u1100', '\u1161', '\u11A8',
        '가', ' ', '  ', '   ', ' '.repeat(7), ' '.repeat(30), '\t', '\n', '\r\n', '\u00A0', '\u3000', '\u2028', "'",
        "'s", "'ll", "'S", '1', '23', '456', '!', '?', '...', '<|endoftext|>', '<|padding|>', '<|endo', '|>', '中',
        '文', '😀', '\u200D', '\uFE0F', '🇩', '🇪', 'Ω', '\u212B', '\u0958', '\u0B47', '\u0B3E', '\u0F73', '٣',
        '²', 'Ⅻ', '_', '-', '\u0000', '\u007F', '\u0085', '\uFEFF', 'the', ' the', 'ing', ' of', 'ation'];
    let s = '';
    while (s.length < n) {
        const k = 1 + Math.floor(r() * 8);
        for (let i = 0; i < k; i++) s += pool[Math.floor(r() * pool.length)];
    }
    return s;
}

function longRuns() {
    const r = rng(777);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    let s = '';
    for (let i = 0; i < 10240; i++) s += letters[Math.floor(r() * 26)]; /* 10 KB word, no spaces */
    s += '\n' + 'a'.repeat(12000) + '\n';
    for (let i = 0; i < 5000; i++) s += String(Math.floor(r() * 10));
    s += '\n';
    const punct = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~';
    for (let i = 0; i < 3000; i++) s += punct[Math.floor(r() * punct.length)];
    s += '\n' + ' \t'.repeat(500) + 'x\n' + ' '.repeat(1000) + '\n';
    const marks = ['\u0301', '\u0323', '\u0345', '\u0334', '\u0316', '\u0315', '\u093C', '\u0327'];
    s += 'e'; /* 3000 combining marks on one letter: the normalizer's reordering */
    for (let i = 0; i < 3000; i++) s += marks[Math.floor(r() * marks.length)];
    s += '\n' + "'s".repeat(1000) + '\n' + '😀'.repeat(300) + '\n' + 'é'.repeat(2000) + '\n';
    s += '中文'.repeat(1500) + '\n';
    return s;
}

/* ---- synthetic tokenizers ---- */
function bytesToUnicode() {
    const bs = [];
    for (let b = 0x21; b <= 0x7E; b++) bs.push(b);
    for (let b = 0xA1; b <= 0xAC; b++) bs.push(b);
    for (let b = 0xAE; b <= 0xFF; b++) bs.push(b);
    const map = new Array(256);
    for (const b of bs) map[b] = cp(b);
    let n = 0;
    for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = cp(256 + n++);
    return map;
}

/* A small GPT-NeoX: the byte alphabet plus NeoX's first merges that stay inside it. */
function miniBpe(neox, size) {
    const B = bytesToUnicode();
    const vocab = {};
    B.forEach((c, i) => { vocab[c] = i; });
    let n = 256;
    const merges = [];
    for (const m of neox.model.merges) {
        const [a, b] = typeof m === 'string' ? m.split(' ') : m;
        if (vocab[a] === undefined || vocab[b] === undefined || vocab[a + b] !== undefined) continue;
        merges.push([a, b]);
        vocab[a + b] = n++;
        if (n >= size) break;
    }
    return { vocab, merges, B };
}

function baseJson(model, extra) {
    return Object.assign({
        version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
        pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
        model: Object.assign({ type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
            end_of_word_suffix: null, fuse_unk: false, byte_fallback: false }, model),
    }, extra);
}
const tokDef = (content, o) => Object.assign({ id: 0, content, single_word: false, lstrip: false, rstrip: false,
    normalized: true, special: false }, o);

function synthetics(neox) {
    const out = [];
    { /* a: prefix space, added-token flags, ids the JSON gets wrong */
        const m = miniBpe(neox, 1500);
        const j = baseJson({ vocab: m.vocab, merges: m.merges.map((p) => p.join(' ')) }, {
            pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
            added_tokens: [
                tokDef('<s>', { id: 0, special: true, normalized: false }),
                tokDef('[MASK]', { id: 7, special: true, lstrip: true, normalized: false }),
                tokDef('<sep>', { id: 9999, special: true, rstrip: true, normalized: false }),
                tokDef('word', { id: 5, single_word: true }),
                tokDef('   ', { id: 1 }),
                tokDef('hello', { id: 12345, normalized: false }),
                tokDef('in', { id: 1 }), /* in the vocabulary: keeps its id there */
                tokDef('<both>', { id: 3, special: true, lstrip: true, rstrip: true, normalized: false }),
                tokDef('', { id: 4 }),
                tokDef('<s>', { id: 0, special: true, normalized: false }), /* a duplicate */
            ],
        });
        out.push({ name: 'synth_a', json: j, texts: {
            flags: 'Hello world <s>start [MASK] masked   [MASK]x and y<sep>   after\n' +
                'a word, words, sword, word! (word) _word word_ wordy\n' +
                'hello there, hellohello, <s><s> in inside within begin\n' +
                '  <both>  around <both>\t\n' + "x   y    z     end   \n" + 'café <s> ünïcödé 😀 <sep>\n' +
                'multi\nline\n<s>\n\tindented [MASK]\n',
        } });
    }
    { /* b: NFD, ignore_merges, merges as pairs, normalized / raw added tokens */
        const m = miniBpe(neox, 1200);
        m.vocab['Ġcafe'] = Object.keys(m.vocab).length; /* a whole-word token without merges to it */
        const j = baseJson({ vocab: m.vocab, merges: m.merges, ignore_merges: true }, {
            normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'NFD' }] },
            added_tokens: [
                tokDef('café', { id: 0 }),
                tokDef('naïve', { id: 0, normalized: false }),
                tokDef('<|end|>', { id: 0, special: true, normalized: false }),
            ],
        });
        out.push({ name: 'synth_b', json: j, texts: {
            nfd: 'café cafe\u0301 naïve nai\u0308ve ÅNGSTRÖM Ångström ﬁ Ω \u212B 가 \u1100\u1161\n' +
                ' cafe cafeteria the cafe<|end|>café<|end|>\n' + 'Tiếng Việt, français, Ελληνικά, русский\n',
        } });
    }
    { /* c: unk + fuse_unk, byte_fallback, continuing_subword_prefix, end_of_word_suffix */
        const base = miniBpe(neox, 700);
        const B = base.B;
        const vocab = {};
        let n = 0;
        const add = (t) => { if (vocab[t] === undefined) vocab[t] = n++; };
        add('<unk>');
        const missing = new Set([B[0x7B], B[0xFF], B[0x0A]]); /* '{', 0xFF, newline: not in the alphabet */
        for (let b = 0; b < 256; b++) {
            if (missing.has(B[b])) continue;
            add(B[b]);
            add('##' + B[b]);
            add(B[b] + '</w>');
            add('##' + B[b] + '</w>');
        }
        for (const h of ['7B', '23', 'C3', '83', '0A']) add('<0x' + h + '>'); /* not 0xBF: 0xFF stays unknown */
        const merges = [];
        for (const [a, b] of base.merges) {
            const variants = [[a, '##' + b, a + b], ['##' + a, '##' + b, '##' + a + b],
                [a, '##' + b + '</w>', a + b + '</w>'], ['##' + a, '##' + b + '</w>', '##' + a + b + '</w>']];
            for (const [l, r, t] of variants) {
                if (vocab[l] === undefined || vocab[r] === undefined) continue;
                add(t);
                merges.push(l + ' ' + r);
            }
        }
        const j = baseJson({ vocab, merges, unk_token: '<unk>', fuse_unk: true, byte_fallback: true,
            continuing_subword_prefix: '##', end_of_word_suffix: '</w>' });
        out.push({ name: 'synth_c', json: j, texts: {
            affixes: 'the cat sat on the mat; a b c\n{x} {{y}} ÿÿÿ ÿ{ÿ é ü ÿé\n' +
                'strange{braces}here and ÿ at the end ÿ',
        } });
    }
    { /* d: no regex, Sequence wrappers, a hole in the ids (HF's next added id collides) */
        const m = miniBpe(neox, 900);
        delete m.vocab[m.B[0]]; /* byte 0x00: unknown, dropped without an unk_token */
        const j = baseJson({ vocab: m.vocab, merges: m.merges.map((p) => p.join(' ')) }, {
            pre_tokenizer: { type: 'Sequence', pretokenizers: [
                { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: false }] },
            decoder: { type: 'Sequence', decoders: [{ type: 'ByteLevel', add_prefix_space: true, trim_offsets: true }] },
            added_tokens: [tokDef('<new>', { id: 5000, special: true, normalized: false })],
        });
        out.push({ name: 'synth_d', json: j, texts: {
            noregex: 'Hello world, this is a test of the tokenizer.\n<new>  x\u0000y <new>new\n\n  spaced out  ',
        } });
    }
    return out;
}

/* ---- writing ---- */
function hfText(buf) {
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(buf);
}
async function writeIds(tok, txtPath) {
    const enc = await tok.encode(hfText(fs.readFileSync(txtPath)), null, { addSpecialTokens: false });
    const ids = enc.getIds();
    fs.writeFileSync(txtPath.replace(/\.txt$/, '.ids'), ids.join(' ') + '\n');
    return ids.length;
}

async function main() {
    const neoxJson = JSON.parse(fs.readFileSync(NEOX, 'utf8'));
    const neox = tk.Tokenizer.fromFile(NEOX);
    if (exhaustive) {
        fs.mkdirSync(exhaustive, { recursive: true });
        const f = path.join(exhaustive, 'unicode_all.txt');
        fs.writeFileSync(f, unicodeText(probeUnicode(), 1));
        console.log(f, await writeIds(neox, f), 'ids');
        return;
    }
    fs.mkdirSync(DIR, { recursive: true });
    const corpus = fs.readFileSync(CORPUS, 'utf8');
    fs.writeFileSync(path.join(DIR, 'gen_shakespeare.txt'), corpus.slice(0, corpus.indexOf('\n', 100000) + 1));
    fs.writeFileSync(path.join(DIR, 'gen_long_runs.txt'), longRuns());
    fs.writeFileSync(path.join(DIR, 'gen_fuzz.txt'), fuzzText(20000));
    fs.writeFileSync(path.join(DIR, 'gen_unicode.txt'), unicodeText(probeUnicode(), 6));
    const index = [];
    for (const f of fs.readdirSync(DIR).filter((f) => f.endsWith('.txt') && f !== 'index.txt').sort()) {
        const n = await writeIds(neox, path.join(DIR, f));
        index.push('neox ' + f);
        console.log(f, n, 'ids');
    }
    for (const s of synthetics(neoxJson)) {
        const d = path.join(DIR, s.name);
        fs.mkdirSync(d, { recursive: true });
        fs.writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify(s.json));
        const tok = tk.Tokenizer.fromFile(path.join(d, 'tokenizer.json'));
        for (const [name, text] of Object.entries(s.texts)) {
            fs.writeFileSync(path.join(d, name + '.txt'), text);
            const n = await writeIds(tok, path.join(d, name + '.txt'));
            index.push(s.name + '/tokenizer.json ' + s.name + '/' + name + '.txt');
            console.log(s.name + '/' + name, n, 'ids');
        }
    }
    fs.writeFileSync(path.join(DIR, 'index.txt'), index.join('\n') + '\n');
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});

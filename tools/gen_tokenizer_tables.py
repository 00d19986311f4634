#!/usr/bin/python3
"""Generate the Unicode tables of xlstm.h's tokenizer (printed to stdout as C).

Run with /usr/bin/python3 (its unicodedata is Unicode 14.0.0; checked below).
Hugging Face `tokenizers` mixes two Unicode versions, measured by probing its
Node binding (tokenizers@0.23.2) on every code point:
  - the NFC normalizer (crate unicode-normalization-alignments) has Unicode 9.0
    data: NORM_AFTER_9 lists the code points that gained a combining class or
    a canonical decomposition between 9.0 and 14.0 (== diff of Python 3.6's and
    3.11's unicodedata); for HF they have ccc 0 and no decomposition;
  - the ByteLevel pre-tokenizer regex runs on Oniguruma with Unicode 16.0 data:
    CLASS_AFTER_14 lists the letters (L) and numbers (N) assigned in 15.0-16.0.
Tables:
  xlstm__tok_cls   (start << 2 | class) boundaries; class 0 other, 1 \\p{L},
                   2 \\p{N}, 3 \\s (Oniguruma: 9-13, 0x85, Zs, Zl, Zp)
  xlstm__tok_ccc   (start << 8 | ccc) boundaries
  xlstm__tok_dec_run  (start << 11 | count) runs of code points with a
                   canonical decomposition (Hangul excluded: algorithmic);
                   xlstm__tok_dec_off[i] = index of the run's first map entry
  xlstm__tok_dec_map  first | second_index << 21 | excluded << 28, where
                   second_index is 1 + index into xlstm__tok_dec_b (0: singleton)
                   and excluded marks composites NFC never recomposes
  xlstm__tok_dec_b    sorted second code points of pair decompositions
"""
import sys
import unicodedata as ud

assert ud.unidata_version == "14.0.0", "run with /usr/bin/python3 (Unicode 14.0.0)"

NORM_AFTER_9 = [(0x7FD, 0x7FD), (0x898, 0x89F), (0x8CA, 0x8D3), (0x9FE, 0x9FE), (0xC3C, 0xC3C),
                (0xD3B, 0xD3C), (0xEBA, 0xEBA), (0x1715, 0x1715), (0x1ABF, 0x1ACE), (0x1DF6, 0x1DFA),
                (0xA82C, 0xA82C), (0x10D24, 0x10D27), (0x10EAB, 0x10EAC), (0x10F46, 0x10F50),
                (0x10F82, 0x10F85), (0x11070, 0x11070), (0x1133B, 0x1133B), (0x1145E, 0x1145E),
                (0x11839, 0x1183A), (0x11938, 0x11938), (0x1193D, 0x1193E), (0x11943, 0x11943),
                (0x119E0, 0x119E0), (0x11A34, 0x11A34), (0x11A47, 0x11A47), (0x11A99, 0x11A99),
                (0x11D42, 0x11D42), (0x11D44, 0x11D45), (0x11D97, 0x11D97), (0x16FF0, 0x16FF1),
                (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF)]
CLASS_AFTER_14 = "1c89-1c8aL a7cb-a7cdL a7da-a7dcL 105c0-105f3L 10d40-10d49N 10d4a-10d65L 10d6f-10d85L " \
    "10ec2-10ec4L 1123f-11240L 11380-11389L 1138b-1138bL 1138e-1138eL 11390-113b5L 113b7-113b7L " \
    "113d1-113d1L 113d3-113d3L 116d0-116e3N 11bc0-11be0L 11bf0-11bf9N 11f02-11f02L 11f04-11f10L " \
    "11f12-11f33L 11f50-11f59N 1342f-1342fL 13441-13446L 13460-143faL 16100-1611dL 16130-16139N " \
    "16d40-16d6cL 16d70-16d79N 18cff-18cffL 1b132-1b132L 1b155-1b155L 1ccf0-1ccf9N 1d2c0-1d2d3N " \
    "1df25-1df2aL 1e030-1e06dL 1e4d0-1e4ebL 1e4f0-1e4f9N 1e5d0-1e5edL 1e5f0-1e5f0L 1e5f1-1e5faN " \
    "2b739-2b739L 2ebf0-2ee5dL 31350-323afL"
MAXCP = 0x110000


def after9(cp):
    return any(a <= cp <= b for a, b in NORM_AFTER_9)


def cls_of(cp):
    c = chr(cp)
    cat = ud.category(c)
    if 9 <= cp <= 13 or cp == 0x85 or cat in ("Zs", "Zl", "Zp"):
        return 3
    if cat[0] == "L":
        return 1
    if cat[0] == "N":
        return 2
    return 0


def emit(name, ctype, values):
    out, line = ["static const %s %s[%d] = {" % (ctype, name, len(values))], ""
    for v in values:
        item = "%d," % v
        if len(line) + len(item) > 116:
            out.append("   " + line)
            line = ""
        line += " " + item
    out.append("   " + line)
    out.append("};")
    return "\n".join(out)


def main():
    cls = [cls_of(cp) for cp in range(MAXCP)]
    for item in CLASS_AFTER_14.split():
        lo, hi = item[:-1].split("-")
        for cp in range(int(lo, 16), int(hi, 16) + 1):
            assert ud.category(chr(cp)) == "Cn"
            cls[cp] = 1 if item[-1] == "L" else 2
    cls_tab, prev = [], -1
    for cp in range(MAXCP):
        if cls[cp] != prev:
            cls_tab.append(cp << 2 | cls[cp])
            prev = cls[cp]

    ccc = [0 if after9(cp) else ud.combining(chr(cp)) for cp in range(MAXCP)]
    ccc_tab, prev = [], -1
    for cp in range(MAXCP):
        if ccc[cp] != prev:
            ccc_tab.append(cp << 8 | ccc[cp])
            prev = ccc[cp]

    dec = []
    for cp in range(MAXCP):
        if 0xAC00 <= cp <= 0xD7A3 or after9(cp):
            continue
        d = ud.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        dec.append((cp, [int(x, 16) for x in d.split()]))
    seconds = sorted(set(p[1] for _, p in dec if len(p) == 2))
    runs, offs, maps = [], [], []
    for i, (cp, parts) in enumerate(dec):
        if not runs or cp != (runs[-1] >> 11) + (runs[-1] & 0x7FF) or (runs[-1] & 0x7FF) == 0x7FF:
            runs.append(cp << 11)
            offs.append(i)
        runs[-1] += 1
        # a composite is excluded when NFC does not give it back (exclusions,
        # singletons, non-starter decompositions): ask unicodedata itself
        excluded = ud.normalize("NFC", chr(cp)) != chr(cp)
        bidx = seconds.index(parts[1]) + 1 if len(parts) == 2 else 0
        assert parts[0] < (1 << 21) and bidx < 128
        maps.append(parts[0] | bidx << 21 | int(excluded) << 28)
    assert len(dec) < 65536
    # the tokenizer's fast paths skip bytes below these code points
    assert min(seconds) >= 0x300 and min(cp for cp in range(MAXCP) if ccc[cp]) >= 0x300
    assert min(cp for cp, m in zip([d[0] for d in dec], maps) if m >> 28) >= 0x300
    assert min(d[0] for d in dec) >= 0xC0
    # xlstm__tok_decompose recurses on the first part only, into 4 code points
    decomposable = set(d[0] for d in dec)
    assert not any(len(p) == 2 and p[1] in decomposable for _, p in dec)
    assert max(len(ud.normalize("NFD", chr(cp))) for cp, _ in dec) <= 4

    print("/* ---- tokenizer: Unicode tables ----------------------------------------- */")
    print("/* Generated by tokenizer_gen_tables.py from Python's unicodedata %s, adjusted to" % ud.unidata_version)
    print("   HF tokenizers' Unicode versions (normalizer 9.0, pre-tokenizer regex 16.0). */")
    print(emit("xlstm__tok_cls", "uint32_t", cls_tab))
    print(emit("xlstm__tok_ccc", "uint32_t", ccc_tab))
    print(emit("xlstm__tok_dec_run", "uint32_t", runs))
    print(emit("xlstm__tok_dec_off", "uint16_t", offs))
    print(emit("xlstm__tok_dec_map", "uint32_t", maps))
    print(emit("xlstm__tok_dec_b", "uint32_t", seconds))
    print("/* ---- end of generated tables */")
    sys.stderr.write("cls %d ccc %d runs %d maps %d seconds %d\n" % (len(cls_tab), len(ccc_tab), len(runs), len(maps), len(seconds)))


main()

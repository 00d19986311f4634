#!/bin/sh
# CLI contracts: generate is deterministic for a seed, differs across seeds,
# rejects bad arguments with exit code 2; perplexity's last line has its
# key=value form; xlstm-logits writes n_tokens x vocab floats.
set -u
cd "$(dirname "$0")/.."
M=models/tiny-shakespeare
pass=0
fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }

./build/generate -m $M -p "ROMEO:" -n 200 --seed 7 > build/gen_a.txt 2>/dev/null
./build/generate -m $M -p "ROMEO:" -n 200 --seed 7 > build/gen_b.txt 2>/dev/null
./build/generate -m $M -p "ROMEO:" -n 200 --seed 8 > build/gen_c.txt 2>/dev/null
check "same seed, same text" "cmp -s build/gen_a.txt build/gen_b.txt"
check "another seed, another text" "! cmp -s build/gen_a.txt build/gen_c.txt"
check "the prompt is printed first" "head -c 6 build/gen_a.txt | grep -q '^ROMEO:'"
check "200 bytes after the prompt" "[ \$(wc -c < build/gen_a.txt) -ge 206 ]"
./build/generate -m $M --top-k nonsense > /dev/null 2>&1
check "bad value: exit 2" "[ $? -eq 2 ]"
./build/generate --no-such-flag > /dev/null 2>&1
check "unknown flag: exit 2" "[ $? -eq 2 ]"
./build/generate -m tests/data/no-such-model -p x -n 1 > /dev/null 2>&1
check "missing model: nonzero exit" "[ $? -ne 0 ]"
./build/generate -m $M -p "ROMEO:" -n 20 --seed 1 2> build/gen_err.txt > /dev/null
check "speed report on stderr" "grep -q 'tokens/s' build/gen_err.txt"
head -c 20000 tests/data/tokenizer/gen_shakespeare.txt > build/ppl.txt
./build/xlstm-perplexity $M build/ppl.txt > build/ppl_out.txt 2>/dev/null
check "perplexity last line" "tail -1 build/ppl_out.txt | grep -Eq '^loss_nats_per_token=[0-9.]+ bits_per_byte=[0-9.]+ ppl=[0-9.]+$'"
printf '1, 2,3\n4 5' > build/toks.txt
./build/xlstm-logits tests/data/mixed build/toks.txt build/logits.f32 --mode step
check "xlstm-logits size" "[ \$(wc -c < build/logits.f32) -eq \$((5 * 101 * 4)) ]"
printf '1 2 999' > build/badtoks.txt
./build/xlstm-logits tests/data/mixed build/badtoks.txt build/logits.f32 --mode prefill 2> build/logits_err.txt
check "out-of-range token: nonzero exit, one line" "[ $? -ne 0 ] && [ \$(wc -l < build/logits_err.txt) -eq 1 ]"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

#!/bin/sh
# CLI contracts: generate is deterministic for a seed, differs across seeds,
# rejects bad arguments with exit code 2; perplexity's last line has its
# key=value form; xlstm-logits writes n_tokens x vocab floats; xlstm-forecast
# prints its CSV and rejects bad input with exit code 2 and one line.
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
# the weights through a named pipe (no seek, no map): the same text as from the file
rm -rf build/fifo_model && mkdir build/fifo_model && cp $M/*.json build/fifo_model/ && mkfifo build/fifo_model/model.safetensors
cat $M/model.safetensors > build/fifo_model/model.safetensors &
timeout 60 ./build/generate -m build/fifo_model -p "ROMEO:" -n 200 --seed 7 > build/gen_fifo.txt 2>/dev/null
check "weights from a pipe" "cmp -s build/gen_a.txt build/gen_fifo.txt"
wait
head -c 20000 tests/data/tokenizer/gen_shakespeare.txt > build/ppl.txt
./build/xlstm-perplexity $M build/ppl.txt > build/ppl_out.txt 2>/dev/null
check "perplexity last line" "tail -1 build/ppl_out.txt | grep -Eq '^loss_nats_per_token=[0-9.]+ bits_per_byte=[0-9.]+ ppl=[0-9.]+$'"
printf '1, 2,3\n4 5' > build/toks.txt
./build/xlstm-logits tests/data/mixed build/toks.txt build/logits.f32 --mode step
check "xlstm-logits size" "[ \$(wc -c < build/logits.f32) -eq \$((5 * 101 * 4)) ]"
printf '1 2 999' > build/badtoks.txt
./build/xlstm-logits tests/data/mixed build/badtoks.txt build/logits.f32 --mode prefill 2> build/logits_err.txt
check "out-of-range token: nonzero exit, one line" "[ $? -ne 0 ] && [ \$(wc -l < build/logits_err.txt) -eq 1 ]"
# xlstm-forecast: every bad input is exit 2 and one line on stderr naming it
F=./build/xlstm-forecast
TX=tests/data/tirex/a_d64_h2_b2_p32
fc_err() { # NAME PATTERN ARGS...: exit 2, one line, matching PATTERN
    name=$1 pat=$2
    shift 2
    "$F" "$@" > build/fc_out.txt 2> build/fc_err.txt
    fc_rc=$?
    fc_ok=0
    [ $fc_rc -eq 2 ] && [ "$(wc -l < build/fc_err.txt)" -eq 1 ] && grep -q "^xlstm-forecast: .*$pat" build/fc_err.txt && fc_ok=1
    check "forecast, $name: exit 2, one line (got $fc_rc: $(head -c 200 build/fc_err.txt))" "[ $fc_ok -eq 1 ]"
}
printf '1,2,3\n4,abc,6\n' > build/fc_nan.csv
printf '1,2,3\n\n4,5\n' > build/fc_emptyline.csv
: > build/fc_empty.csv
fc_err "a non-number" "fc_nan.csv:2: field 2: .*'abc'" -m $TX -f build/fc_nan.csv -H 4
fc_err "an empty series" "fc_emptyline.csv:2: empty series" -m $TX -f build/fc_emptyline.csv -H 4
fc_err "an empty file" "fc_empty.csv" -m $TX -f build/fc_empty.csv -H 4
fc_err "H = 0" "horizon" -m $TX -f $TX/series.csv -H 0
fc_err "H = -3" "horizon" -m $TX -f $TX/series.csv -H -3
fc_err "H = abc" "horizon" -m $TX -f $TX/series.csv -H abc
fc_err "no -m" "model" -f $TX/series.csv -H 4
fc_err "a missing model" "no-such-model" -m tests/data/no-such-model -f $TX/series.csv -H 4
fc_err "not a TiRex model" "$M: not a TiRex model" -m $M -f $TX/series.csv -H 4
"$F" --no-such-flag > /dev/null 2>&1
check "forecast, unknown flag: exit 2" "[ $? -eq 2 ]"
# a real TiRex checkpoint: header from its quantiles, one row per series and step
"$F" -m $TX/model.ckpt -f $TX/series.csv -H 32 --raw build/fc_a.f32 --plot build/fc_a.svg > build/fc_a.csv
check "forecast: exit 0" "[ $? -eq 0 ]"
check "forecast: CSV header" "[ \"\$(head -1 build/fc_a.csv)\" = 'series,step,mean,q0.1,q0.2,q0.3,q0.4,q0.5,q0.6,q0.7,q0.8,q0.9' ]"
check "forecast: 6 series x 32 steps" "[ \$(wc -l < build/fc_a.csv) -eq \$((1 + 6 * 32)) ] && tail -1 build/fc_a.csv | grep -q '^5,32,'"
check "forecast: --raw is 6 x 32 x 9 floats" "[ \$(wc -c < build/fc_a.f32) -eq \$((6 * 32 * 9 * 4)) ]"
check "forecast: --plot writes an SVG" "head -c 4 build/fc_a.svg | grep -q '<svg' && tail -1 build/fc_a.svg | grep -q '</svg>'"
head -1 $TX/series.csv | tr ',' '\n' | head -64 | "$F" -m $TX/model.ckpt -H 8 --stream > build/fc_stream.csv
check "forecast --stream: a forecast per patch of 32" "[ \$(wc -l < build/fc_stream.csv) -eq \$((1 + 2 * 8)) ] && head -1 build/fc_stream.csv | grep -q '^observed,step,mean,q0.1,' && tail -1 build/fc_stream.csv | grep -q '^64,8,'"
# the checkpoint converted to one f32 .safetensors forecasts the same bytes; q8 loads too
./build/xlstm-quantize $TX build/fc_a32.safetensors --dtype f32 > /dev/null 2>&1 &&
    "$F" -m build/fc_a32.safetensors -f $TX/series.csv -H 32 --raw build/fc_a32.f32 -q
check "forecast from xlstm-quantize's f32 .safetensors: identical" "cmp -s build/fc_a.f32 build/fc_a32.f32"
./build/xlstm-quantize $TX/model.ckpt build/fc_aq8.safetensors --dtype q8 > /dev/null 2>&1 &&
    "$F" -m build/fc_aq8.safetensors -f $TX/series.csv -H 32 --raw build/fc_aq8.f32 -q
check "forecast from a q8 conversion" "[ \$(wc -c < build/fc_aq8.f32) -eq \$((6 * 32 * 9 * 4)) ]"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]

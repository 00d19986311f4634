#!/bin/sh
# tests/fuzz/run.sh TARGET [SECONDS] [extra libFuzzer args...]
#   Builds build/fuzz/TARGET (libFuzzer + ASan + UBSan) when missing or older
#   than its sources, then fuzzes tests/fuzz/corpus/TARGET for SECONDS
#   (default 60) at low priority, one process. New inputs go to
#   build/fuzz/corpus/TARGET (the committed corpus is only read); crashes to
#   build/fuzz/artifacts/TARGET/.
#   tests/fuzz/run.sh --build TARGET   only build
#   tests/fuzz/run.sh --seeds          regenerate the generated seeds
#   tests/fuzz/run.sh --regress        run every saved regression input once
# Env: CLANG (default clang), XLSTM_INC (dir holding xlstm.h, default repo root),
#      FUZZ_NICE (default 19), FUZZ_OUT (build/output dir, default build/fuzz).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FZ="$ROOT/tests/fuzz"
OUT=${FUZZ_OUT:-$ROOT/build/fuzz}
CLANG=${CLANG:-clang}
INC=${XLSTM_INC:-$ROOT}
NICE=${FUZZ_NICE:-19}
CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
mkdir -p "$OUT"

build() {
    t=$1
    bin="$OUT/$t"
    if [ ! -x "$bin" ] || [ "$FZ/$t.c" -nt "$bin" ] || [ "$FZ/fuzz_common.h" -nt "$bin" ] || [ "$INC/xlstm.h" -nt "$bin" ]; then
        echo "building $bin" >&2
        $CLANG $CFLAGS -I"$INC" -DXLSTM_FUZZ_DATA_DIR="\"$ROOT/tests/data\"" -o "$bin" "$FZ/$t.c" -lm
    fi
}

# libFuzzer options per target: input size cap, per-input timeout
opts() {
    case $1 in
    fuzz_safetensors) echo "-max_len=65536 -timeout=10" ;;
    fuzz_config) echo "-max_len=16384 -timeout=10 -dict=$FZ/config.dict" ;;
    fuzz_model) echo "-max_len=131072 -timeout=20 -dict=$FZ/config.dict" ;;
    fuzz_state) echo "-max_len=65536 -timeout=10" ;;
    fuzz_tokenizer) echo "-max_len=65536 -timeout=10" ;;
    fuzz_ckpt) echo "-max_len=65536 -timeout=10 -dict=$FZ/ckpt.dict" ;;
    *) echo "-max_len=4096" ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case ${1:-} in
--build) build "$2"; exit 0 ;;
--seeds)
    mkdir -p "$OUT" "$FZ/corpus/fuzz_model" "$FZ/corpus/fuzz_state"
    $CLANG -O1 -g -I"$INC" -o "$OUT/gen_seeds" "$FZ/gen_seeds.c" -lm
    "$OUT/gen_seeds" "$FZ/corpus"
    exit 0 ;;
--regress)
    rc=0
    for d in "$FZ"/regressions/*/; do
        t=$(basename "$d")
        ls "$d" | grep -q . || continue
        build "$t"
        "$OUT/$t" $(opts "$t") -runs=0 "$d"* || rc=1
    done
    exit $rc ;;
""|-*) echo "usage: $0 TARGET [SECONDS] [libFuzzer args]" >&2; exit 2 ;;
esac

T=$1
SECS=${2:-60}
[ $# -ge 2 ] && shift 2 || shift 1
build "$T"
mkdir -p "$OUT/corpus/$T" "$OUT/artifacts/$T/" "$FZ/corpus/$T"
exec nice -n "$NICE" "$OUT/$T" $(opts "$T") -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_total_time="$SECS" \
    -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$T/" "$@" "$OUT/corpus/$T" "$FZ/corpus/$T"

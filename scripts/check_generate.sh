#!/usr/bin/env bash
# Checks the text-generation example (examples/generate.c) against ONNX Runtime:
#   1. exports the small GPT-2-style decoder, plain and with past keys/values
#      (scripts/gen_generate_models.py), and compiles the plain one for every
#      length and both for a context of 32
#   2. greedy: example_generate's tokens, with each artifact (real lengths;
#      right-padded; fixed-size key/value cache), equal ONNX Runtime's greedy loop
#      (tests/ort/ort_generate.js) over the plain model, and ONNX Runtime's loop
#      over the past-keys/values model (a cache growing by one) gives them too
#   3. top-k sampling: the same seed gives the same tokens (in both forms),
#      another seed other ones, top-k 1 is greedy, and every sampled token is
#      among the k largest logits ONNX Runtime computes for its prefix
#   4. refusals: a prompt that does not fit the compiled length, a token outside
#      the vocabulary
#
#   bash scripts/check_generate.sh [--build DIR] [--out DIR]
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build=build
out="$root/tests/generated/generate"
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "usage: $0 [--build DIR] [--out DIR]" >&2; exit 2 ;;
    esac
done
gen="$build/example_generate"
ort=(node tests/ort/ort_generate.js)
failures=0
check() { # check DESCRIPTION GOT WANT
    if [ "$2" == "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1"
        echo "     got:  $2"
        echo "     want: $3"
        failures=$((failures + 1))
    fi
}

/usr/bin/python3 scripts/gen_generate_models.py --out "$out" --dlc "$build/dlc" --context 32 || exit 1

# prompts whose greedy paths keep the two largest logits > 1e-3 apart (ort_generate.js
# prints the gap), far above the rounding differences of two implementations
for case in "5,17,42 20" "90 31" "3,1,4,1,5,9,2,6 25"; do
    read -r prompt n <<<"$case"
    want=$("${ort[@]}" "$out/gpt2_lm.onnx" --prompt "$prompt" -n "$n") || exit 1
    got=$("$gen" "$out/gpt2_lm_dynamic.so" --prompt "$prompt" -n "$n" 2>/dev/null)
    check "greedy, prompt $prompt, $n tokens: dlc at the real lengths = ONNX Runtime" "$got" "$want"
    got=$("$gen" "$out/gpt2_lm.so" --prompt "$prompt" -n "$n" 2>/dev/null)
    check "greedy, prompt $prompt, $n tokens: dlc right-padded = ONNX Runtime" "$got" "$want"
    got=$("$gen" "$out/gpt2_lm_past.so" --prompt "$prompt" -n "$n" 2>/dev/null)
    check "greedy, prompt $prompt, $n tokens: dlc with a key/value cache = ONNX Runtime" "$got" "$want"
    past=$("${ort[@]}" "$out/gpt2_lm_past.onnx" --prompt "$prompt" -n "$n" 2>/dev/null)
    check "greedy, prompt $prompt: ONNX Runtime with past keys/values = without" "$past" "$want"
done

prompt=5,17,42
sample() { "$gen" "$out/gpt2_lm.so" --prompt "$prompt" -n 24 "$@" 2>/dev/null; }
a=$(sample --top-k 5 --temperature 0.8 --seed 7)
check "top-k 5, seed 7: the same tokens twice" "$(sample --top-k 5 --temperature 0.8 --seed 7)" "$a"
for so in gpt2_lm_past gpt2_lm_dynamic; do
    check "top-k 5, seed 7: $so.so draws the same tokens" \
        "$("$gen" "$out/$so.so" --prompt "$prompt" -n 24 --top-k 5 --temperature 0.8 --seed 7 2>/dev/null)" "$a"
done
b=$(sample --top-k 5 --temperature 0.8 --seed 8)
check "top-k 5: seeds 7 and 8 give different tokens" "$([ "$a" != "$b" ] && echo differ)" differ
check "top-k 1 is greedy" "$(sample --top-k 1 --seed 3)" "$(sample)"
for k in 3 5; do
    for seed in 1 2; do
        tokens=$(sample --top-k $k --temperature 1.5 --seed $seed)
        verdict=$("${ort[@]}" "$out/gpt2_lm.onnx" --prompt "$prompt" --check-topk $k --tokens "${tokens// /,}" 2>&1)
        check "top-k $k, seed $seed: every token among ONNX Runtime's $k largest logits" "$verdict" \
            "ort_generate: all 24 tokens are within the top $k"
    done
done
# and the check itself can fail: a sample from the top 5 is not all within the top 1
verdict=$("${ort[@]}" "$out/gpt2_lm.onnx" --prompt "$prompt" --check-topk 1 --tokens "${a// /,}" 2>&1)
check "a top-5 sample is refused by the top-1 check" "$(grep -c 'outside the top 1' <<<"$verdict")" 1

refused() { "$gen" "$out/gpt2_lm.so" "$@" >/dev/null 2>&1 && echo ran || echo refused; }
long=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
check "30 prompt tokens + 4 new ones do not fit 32: refused" "$(refused --prompt $long -n 4)" refused
check "a token outside the vocabulary: refused" "$(refused --prompt 5,97 -n 2)" refused
check "a cache of 31 slots: 30 prompt tokens + 4 new ones refused" \
    "$("$gen" "$out/gpt2_lm_past.so" -n 4 --prompt $long >/dev/null 2>&1 && echo ran || echo refused)" refused
check "a cache of 31 slots: 30 prompt tokens + 3 new ones fit, ONNX Runtime's tokens" \
    "$("$gen" "$out/gpt2_lm_past.so" -n 3 --prompt $long 2>/dev/null)" \
    "$("${ort[@]}" "$out/gpt2_lm.onnx" -n 3 --prompt $long 2>/dev/null)"

echo "check_generate.sh: $failures failed"
[ "$failures" -eq 0 ]

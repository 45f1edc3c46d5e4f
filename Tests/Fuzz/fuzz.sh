#!/usr/bin/env bash
# Builds the libFuzzer targets of Tests/Fuzz with -sanitize=fuzzer,address and runs each for
# SECONDS (default 60) on a scratch copy of its seed corpus. Exits non-zero when a target crashes,
# leaks, or times out, and prints where the crashing input was saved.
#
#   Tests/Fuzz/fuzz.sh [seconds-per-target] [target...]
#
# FUZZ_BUILD_PATH (default .build-fuzz) holds the sanitized build; FUZZ_WORK (default
# $FUZZ_BUILD_PATH/runs) the corpora grown by the runs and the crash artifacts; SWIFT the toolchain
# driver (default swift); FUZZ_FLAGS more libFuzzer flags (e.g. -jobs=2, -max_len=8192).
# A saved input replays with the sanitizers as .build-fuzz/release/<Target> <input-file>, and
# without them as swift run <Target> <input-file>.
set -uo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(FrameDecoderFuzzer UpstreamJSONFuzzer ModelFileFuzzer)
swift="${SWIFT:-swift}"
build_path="${FUZZ_BUILD_PATH:-.build-fuzz}"
work="${FUZZ_WORK:-$build_path/runs}"

# -parse-as-library: main.swift has no top-level entry point and its replayer global is never
# run; -DFUZZING compiles in `<Target>_main`, which SwiftPM links as `main` (it renames every
# executable's entry point so), and which hands over to libFuzzer's driver.
flags=(-c release --build-path "$build_path"
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING)

for target in "${targets[@]}"; do
    start=$(date +%s)
    echo "== building $target (fuzzer + address sanitizer) in $build_path"
    if ! "$swift" build "${flags[@]}" --product "$target"; then
        echo "fuzz: building $target failed" >&2
        exit 2
    fi
    echo "== built $target in $(( $(date +%s) - start )) s"
done
bin="$("$swift" build "${flags[@]}" --show-bin-path)"

status=0
for target in "${targets[@]}"; do
    corpus="$work/$target/corpus"
    artifacts="$work/$target/artifacts/"
    rm -rf "$corpus" "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    cp Tests/Fuzz/"$target"/corpus/* "$corpus"/
    log="$work/$target/fuzz.log"
    echo "== fuzzing $target for $seconds s (log: $log)"
    "$bin/$target" "$corpus" -max_total_time="$seconds" -timeout=5 \
        -artifact_prefix="$artifacts" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
    code=$?
    grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb|new_units_added)' "$log" | tr '\n' ' '
    echo
    if [ $code -ne 0 ]; then
        status=1
        echo "fuzz: $target FAILED (exit $code); last lines of $log:" >&2
        grep -vE '^#[0-9]+' "$log" | tail -40 >&2
        for input in "$artifacts"*; do
            [ -e "$input" ] || continue
            echo "fuzz: $target crashing input saved at $input (replay: $bin/$target $input, or without the sanitizers: swift run $target $input)" >&2
        done
    fi
done
exit $status

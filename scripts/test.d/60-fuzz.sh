# libFuzzer + ASan + UBSan on the .jepa loader, for a bounded time
# (JEPA_FUZZ_SECONDS, default 60). Any crash, leak or UB report fails the step.
set -euo pipefail
B=build-ci/fuzz
cmake -S . -B $B -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJEPA_BUILD_FUZZ=ON \
  -DJEPA_BUILD_TESTS=OFF -DJEPA_BUILD_TOOLS=OFF -DJEPA_BUILD_EXAMPLES=OFF
cmake --build $B -j"$JEPA_JOBS"
W=$B/fuzz-run
rm -rf "$W"; mkdir -p "$W/seeds" "$W/corpus"
"$B/tests/fuzz/write_fuzz_seeds" "$W/seeds"
(cd "$W" && "$OLDPWD/$B/tests/fuzz/fuzz_model_file" -max_total_time="${JEPA_FUZZ_SECONDS:-60}" -max_len=16384 \
   -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus seeds 2>&1 | tee fuzz.log | grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|stat::|ERROR|SUMMARY' )
echo "fuzz: corpus $(ls "$W/corpus" | wc -l) inputs"

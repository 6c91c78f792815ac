#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it needs,
# then runs every step in scripts/test.d/ in order (native Release build and
# tests, sanitizers, -fno-exceptions -fno-rtti, install + find_package consumer,
# cross builds under QEMU, the fuzzer, ...). Exits non-zero if any step fails.
#   JEPA_STEPS="10 60" scripts/test.sh    runs only the steps with those numbers
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export JEPA_ROOT="$PWD"
export JEPA_JOBS="${JEPA_JOBS:-$(nproc)}"
passed=0; failed=0; failed_names=()
for step in scripts/test.d/*.sh; do
  name=$(basename "$step" .sh)
  if [ -n "${JEPA_STEPS:-}" ] && ! grep -qw "${name%%-*}" <<<"$JEPA_STEPS"; then continue; fi
  echo "=== step $name"
  start=$(date +%s)
  if (cd "$JEPA_ROOT" && bash "$step"); then
    passed=$((passed + 1)); echo "=== step $name: ok ($(( $(date +%s) - start )) s)"
  else
    failed=$((failed + 1)); failed_names+=("$name"); echo "=== step $name: FAILED ($(( $(date +%s) - start )) s)"
  fi
done
[ $failed -eq 0 ] || echo "failed steps: ${failed_names[*]}"
echo "steps: $passed passed, $failed failed"
[ $failed -eq 0 ]

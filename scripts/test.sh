#!/bin/sh
# Runs every test program given, prints its cmocka report (stderr merged
# into stdout), then one closing tally of the tests of all programs; exits
# non-zero when any test or program failed.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
for test in "$@"; do
    echo "=== $test"
    if ! "$test" > "$out" 2>&1; then
        status=1
        echo "=== FAILED: $test" >> "$out"
        # A program that died before its own tally counts as one failure
        grep -q '^\[  FAILED  \] [0-9]* test' "$out" || echo "=== CRASHED: $test" >> "$out"
    fi
    cat "$out"
    cat "$out" >> "$out.all"
done
awk '/^\[  PASSED  \]/ { passed += $4 }
     /^\[  FAILED  \] [0-9]+ test/ { failed += $4 }
     /^\[  SKIPPED \] [0-9]+ test/ { skipped += $4 }
     /^=== CRASHED:/ { crashed++ }
     END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed + crashed, skipped }' "$out.all"
rm -f "$out.all"
exit $status

#!/bin/sh
# Runs every test program given, prints its cmocka report (stderr merged
# into stdout) and a closing tally; exits non-zero when any failed.
passed=0
failed=0
for test in "$@"; do
    echo "=== $test"
    if "$test" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "=== FAILED: $test"
    fi
done
echo "test programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

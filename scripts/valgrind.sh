#!/bin/sh
# make test-valgrind: valgrind.sh DIR BIN PATTERN TEST
# Runs the tests of TEST (test_e2e) that PATTERN names with every server
# program of BIN under valgrind's memcheck, started directly: DIR/bin
# holds a wrapper for each (the test finds them through LOTTERY_BIN_DIR)
# and the clients as they are. A memcheck error or a leak, definite,
# indirect or possible, makes the program exit 1, and the test fails on
# its exit status; each program's report is kept in DIR/logs.
dir=$1 pattern=$3 test=$4
bin=$(cd "$2" && pwd)
rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/logs"
logs=$(cd "$dir/logs" && pwd)
for program in "$bin"/lottery-*; do
    name=$(basename "$program")
    case $name in
        lottery-client|lottery-ping)
            ln -s "$program" "$dir/bin/$name" ;;
        *)
            cat > "$dir/bin/$name" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \\
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \\
    --track-origins=yes --log-file=$logs/$name.%p.log "$program" "\$@"
EOF
            chmod +x "$dir/bin/$name" ;;
    esac
done
out=$dir/test.log
LOTTERY_BIN_DIR=$dir/bin LOTTERY_TEST_FILTER=$pattern "$test" > "$out" 2>&1
status=$?
cat "$out"
for log in "$logs"/*.log; do
    [ -e "$log" ] || break
    echo "=== $(basename "$log"): $(grep -h 'ERROR SUMMARY' "$log" | sed 's/^==[0-9]*== //')"
    [ "$status" -eq 0 ] || cat "$log"
done
if ! ls "$logs" | grep -q .; then
    grep -q '^\[  SKIPPED \]' "$out" || status=1
    echo "valgrind: no program ran under valgrind"
fi
exit $status

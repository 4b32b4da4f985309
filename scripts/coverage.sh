#!/bin/sh
# coverage.sh BUILD: the product code's line coverage by the tests that
# just ran in BUILD (built with --coverage): one line per source file,
# then the total. make coverage runs it.
set -eu
build=$1
for src in lib/*.c actors/*.c broker/*.c frontend/*.c server/*.c client/*.c; do
    [ -f "$src" ] || continue
    gcov -n -o "$build/$(dirname "$src")" "$src" 2>/dev/null |
        awk -v src="$src" '/^Lines executed:/ { sub ("Lines executed:", ""); sub ("% of", ""); 
                           printf "%s %d %d\n", src, $1 * $2 / 100 + 0.5, $2; exit }'
done | awk '{ printf "%-32s %5d of %5d lines\n", $1, $2, $3; hit += $2; all += $3 }
            END { printf "coverage: %d of %d lines of product code, %.1f%%\n", hit, all, 100 * hit / all }'

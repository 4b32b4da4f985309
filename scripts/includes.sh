#!/bin/sh
# The layering of docs/layout.md, checked on one source file before it
# compiles (the Makefile runs it): every quoted #include of the file, and
# of its own header, must name a header of its own folder or of a folder
# on its include path (the -I options it compiles with, given after the
# file). With --own-header-only (a folder of actors, one actor per file)
# its own folder offers only its own header: no actor includes another.
# The compiler alone would find any header beside the file whatever the
# -I options say, and one of a folder left off them only as "No such
# file": this names the rule a file broke, and fails the build.
#   sh scripts/includes.sh [--own-header-only] FILE.c [-IDIR ...]
set -eu
own_only=
if [ "$1" = --own-header-only ]; then
    own_only=1
    shift
fi
file=$1
shift
dir=$(dirname "$file")
base=$(basename "$file" .c)
path=
for option in "$@"; do
    case $option in -I*) path="$path ${option#-I}" ;; esac
done
quoted='s/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p'
status=0
for source in "$file" "$dir/$base.h"; do
    [ -f "$source" ] || continue
    for header in $(sed -n "$quoted" "$source"); do
        if [ -f "$dir/$header" ]; then
            if [ -n "$own_only" ] && [ "$header" != "$base.h" ]; then
                echo "$source: includes $dir/$header: an actor includes no other actor" \
                     "(docs/layout.md)" >&2
                status=1
            fi
            continue
        fi
        allowed=
        for folder in $path; do
            [ -f "$folder/$header" ] && allowed=1 && break
        done
        [ -n "$allowed" ] && continue
        for other in */"$header" */*/"$header"; do
            [ -f "$other" ] || continue
            echo "$source: includes $other, which $dir/ may not: it stands on" \
                 "${path# } only (docs/layout.md)" >&2
            status=1
            break
        done
    done
done
exit $status

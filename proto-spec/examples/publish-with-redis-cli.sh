#!/bin/sh
# Publishes a model document with nothing but redis-cli and python3's standard library,
# following proto-spec/MODEL.md §7 step by step (the model store tests run it).
#
#   publish-with-redis-cli.sh MODEL.json [redis-cli connection flags, e.g. -h 127.0.0.1 -p 6379]
#
# Environment: COUPONRANK_PREFIX (default "couponrank:").
set -eu
file=$1
shift
prefix=${COUPONRANK_PREFIX:-couponrank:}

field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$file" "$1"; }
version=$(field version)
kind=$(field kind)
created_at=$(field created_at)
# d: the widths of the features (§2), added up.
dimension=$(python3 -c '
import json, sys
widths = {"bias": 1, "numeric": 1, "product": 1}
features = json.load(open(sys.argv[1]))["features"]
print(sum(widths.get(f["kind"]) or len(f.get("vocabulary", [])) or f["buckets"] for f in features))' "$file")
crc32=$(python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$file")
entry="${prefix}model:entry:${version}"

# 1. Entries are immutable: refuse a version that exists.
if [ "$(redis-cli "$@" EXISTS "$entry")" != "0" ]; then
    echo "version $version is already published" >&2
    exit 1
fi
# 2. The entry: metadata, then the document (-x: the last argument is read from stdin, byte for byte).
redis-cli "$@" HSET "$entry" crc32 "$crc32" kind "$kind" dimension "$dimension" \
    created_at "$created_at" published_at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
redis-cli "$@" -x HSET "$entry" document < "$file" >/dev/null
# 3. The history, newest first.
redis-cli "$@" LPUSH "${prefix}model:history" "$version" >/dev/null
# 4. Last, the pointer: engines see the new version only once its entry is complete.
redis-cli "$@" SET "${prefix}model:current" "$version" >/dev/null
echo "published $version ($kind, d=$dimension, crc32 $crc32)"

#!/bin/sh
# Re-records keepalived's verdict on every corpus file.
#
# For each NAME.conf this writes NAME.expected: the first line is
# `exit N` (the status of `keepalived -t`), the rest is what keepalived
# printed with -l -D, kept for readers. The replay test compares exit
# statuses only.
#
# keepalived checks interfaces against the host: the corpus assumes a host
# where `eth0` is a usable (non-loopback) interface and `eth9` does not
# exist, and the replay test models exactly that host. Run as root (as the
# daemon would run), from any directory.
#
# Recorded with: keepalived v2.2.7 (Debian).
set -u
cd "$(dirname "$0")" || exit 1
for conf in *.conf; do
    out=$(timeout 20 keepalived -t -l -D -f "$PWD/$conf" 2>&1)
    rc=$?
    {
        echo "exit $rc"
        printf '%s\n' "$out" | sed "s#$PWD/##g" | grep -v '^$'
    } > "${conf%.conf}.expected"
done

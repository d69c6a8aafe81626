#!/bin/sh
# Records `haproxy -c` verdicts (2.6) for every config here into verdicts.txt.
# Exit status 1 means errors; 0 and 2 (valid, or valid without listeners) are "ok".
cd "$(dirname "$0")" || exit 1
for f in *.cfg; do
    haproxy -c -f "$f" >/dev/null 2>&1
    if [ $? = 1 ]; then echo "err ${f%.cfg}"; else echo "ok ${f%.cfg}"; fi
done > verdicts.txt

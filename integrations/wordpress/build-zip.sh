#!/usr/bin/env bash
# Builds the installable plugin zip, target/nexaguard-wordpress-<version>.zip,
# from integrations/wordpress/nexaguard/ (the zip holds one folder,
# nexaguard/, as WordPress's "Upload Plugin" expects).
#
# Invariant: the same sources give the same bytes (entries sorted, fixed
# timestamps and modes), so a zip can be checked against a rebuild.
# Prints the zip's path. Needs python3 (zipfile), nothing else.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
version="$(sed -n 's/^ \* Version: *//p' "$here/nexaguard/nexaguard.php" | head -n1)"
out="${1:-$repo/target/nexaguard-wordpress-$version.zip}"
mkdir -p "$(dirname "$out")"
python3 - "$here" "$out" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
tmp = out + ".tmp"
root = os.path.join(src, "nexaguard")
files = []
for d, _, names in os.walk(root):
    for n in names:
        files.append(os.path.relpath(os.path.join(d, n), src))
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for rel in sorted(files):
        info = zipfile.ZipInfo(rel.replace(os.sep, "/"), date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(os.path.join(src, rel), "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, out)
PY
echo "$out"

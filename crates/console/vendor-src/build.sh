#!/usr/bin/env bash
# Rebuilds the console's vendored bundles (../assets/vendor) from the npm registry.
# Needs Node.js and npm; the product's build does not (the bundles are committed).
#   bash crates/console/vendor-src/build.sh
set -euo pipefail
cd "$(dirname "$0")"
out=../assets/vendor
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
bundle() { # entry, output
    npx esbuild "$1" --bundle --format=esm --minify --legal-comments=none --target=es2020 --outfile="$out/$2"
}
bundle ui.js ui.js
bundle editor.js editor.js
bundle chart.js chart.js
mkdir -p ../tests/vendor && cp node_modules/axe-core/axe.min.js ../tests/vendor/axe.min.js
# Licences, next to what they cover.
{
    for pkg in preact htm codemirror @codemirror/view @codemirror/state @codemirror/language @codemirror/commands \
        @codemirror/search @codemirror/autocomplete @codemirror/lint @codemirror/lang-javascript @lezer/common \
        @lezer/highlight @lezer/lr @lezer/javascript style-mod w3c-keyname crelt @marijn/find-cluster-break \
        echarts zrender tslib axe-core; do
        dir=node_modules/$pkg
        [ -d "$dir" ] || continue
        version=$(node -p "require('./$dir/package.json').version")
        echo "==== $pkg $version"
        cat "$dir"/LICENSE* 2>/dev/null || node -p "require('./$dir/package.json').license"
        echo
    done
} > "$out/LICENSES.txt"
for f in ui.js editor.js chart.js; do
    printf '%-12s %7d bytes, %6d gzip\n' "$f" "$(wc -c < "$out/$f")" "$(gzip -9c "$out/$f" | wc -c)"
done

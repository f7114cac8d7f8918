#!/usr/bin/env bash
# Builds the web app into frontend/dist: the Leptos crate for wasm32 (profile wasm-release),
# wasm-split (cuts the lazily loaded pages of frontend/src/pages/lazy.rs into chunks of their
# own), wasm-bindgen, wasm-opt (binaryen from npm) and Bootstrap's CSS from npm. Works offline
# once the crates and npm packages are in their caches; nothing is fetched from a website.
set -euo pipefail
cd "$(dirname "$0")/.."
# The build's command-line tools go into .tools/bin, or $CRM_TOOLS_DIR/bin when set (CI sets
# ~/.cache/customer-manager, where the other scripts keep their tools, so runs share them).
tools=${CRM_TOOLS_DIR:-$PWD/.tools}
export PATH="$tools/bin:$HOME/.cargo/bin:$PATH"
dist=frontend/dist
target_dir=${CARGO_TARGET_DIR:-$PWD/target}

# wasm-bindgen must be the very version of the wasm-bindgen crate in Cargo.lock.
wanted=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wanted" ]]; then
  echo "Installing wasm-bindgen-cli $wanted into $tools (about 3 minutes, once)"
  cargo install wasm-bindgen-cli --version "$wanted" --root "$tools" >&2
fi
# wasm-split: the command-line tool of the wasm_split_cli_support crate, whose runtime half
# (wasm_split_helpers) Leptos links in; the version that cuts what that runtime expects.
split_version=0.2.4
if ! cargo install --list --root "$tools" | grep -qx "wasm_split_cli_support v$split_version:"; then
  echo "Installing wasm-split-cli $split_version into $tools (about 2 minutes, once)"
  cargo install wasm_split_cli_support --version "$split_version" --features build-binary \
    --locked --root "$tools" >&2
fi
rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

if [[ ! -d frontend/node_modules/bootstrap ]]; then
  (cd frontend && npm ci --no-audit --no-fund)
fi

cargo build -p crm-frontend --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$dist"
mkdir -p "$dist/pkg" "$dist/assets"
# The split writes the main module (for wasm-bindgen), one module per lazy page and per group
# of code that only lazy pages share, and __wasm_split.js, which fetches them when called.
wasm-split-cli --target web --out-name crm_frontend \
  "$target_dir/wasm32-unknown-unknown/wasm-release/crm-frontend.wasm" "$dist/pkg"
# The chunks call into the main module by the linker's export names: keep them as they are.
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
  --out-name crm_frontend --out-dir "$dist/pkg" "$dist/pkg/crm_frontend.wasm"
rm "$dist/pkg/crm_frontend.wasm"
wasm_opt=frontend/node_modules/.bin/wasm-opt
if [[ -x $wasm_opt ]]; then
  for module in "$dist"/pkg/*.wasm; do
    "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals -o "$module" "$module" 2> >(grep -v 'unknown name subsection' >&2)
  done
else
  echo "wasm-opt not found: the app works, only larger (run npm ci in frontend/)" >&2
fi
cp frontend/static/index.html "$dist/"
cp frontend/static/boot.js frontend/static/app.css "$dist/assets/"
cp frontend/node_modules/bootstrap/dist/css/bootstrap.min.css "$dist/assets/"

gz() { gzip -9c "$1" | wc -c; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
# What the first screen downloads: the main module and its JavaScript (the loader of the lazy
# pages included); the lazy pages' chunks come when a page needs them.
first=0
for file in "$dist/pkg/crm_frontend_bg.wasm" "$dist/pkg/crm_frontend.js" "$dist/pkg/__wasm_split.js"; do
  first=$((first + $(gz "$file")))
done
lazy=0 chunks=0
for file in "$dist"/pkg/*.wasm; do
  [[ $file == */crm_frontend_bg.wasm ]] && continue
  lazy=$((lazy + $(gz "$file"))) chunks=$((chunks + 1))
done
css=$(gz "$dist/assets/bootstrap.min.css")
echo "web app built in $dist: first screen $(kb "$first") KB gzip -9 (wasm + js);" \
  "lazy pages $(kb "$lazy") KB more in $chunks chunks; Bootstrap CSS $(kb "$css") KB"
# WEB_APP_BUDGET_KB (set by the Makefile): the most the first screen, wasm + js gzipped, may weigh.
if [[ -n ${WEB_APP_BUDGET_KB:-} ]]; then
  if ((first > WEB_APP_BUDGET_KB * 1024)); then
    echo "web app too large: the first screen's $(kb "$first") KB gzip (wasm + js) is over its" \
      "budget of $WEB_APP_BUDGET_KB KB (WEB_APP_BUDGET_KB in the Makefile)" >&2
    exit 1
  fi
  echo "within the web app's budget of $WEB_APP_BUDGET_KB KB"
fi

#!/usr/bin/env bash
# Builds the web app into frontend/dist: the Leptos crate for wasm32 (profile wasm-release),
# wasm-bindgen, wasm-opt (binaryen from npm) and Bootstrap's CSS from npm. Works offline once
# the crates and npm packages are in their caches; nothing is fetched from a website.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/bin:$HOME/.cargo/bin:$PATH"
dist=frontend/dist
target_dir=${CARGO_TARGET_DIR:-$PWD/target}

# wasm-bindgen must be the very version of the wasm-bindgen crate in Cargo.lock.
wanted=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wanted" ]]; then
  echo "Installing wasm-bindgen-cli $wanted into .tools (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "$wanted" --root .tools >&2
fi
rustup target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown \
  || rustup target add wasm32-unknown-unknown

if [[ ! -d frontend/node_modules/bootstrap ]]; then
  (cd frontend && npm ci --no-audit --no-fund)
fi

cargo build -p crm-frontend --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$dist"
mkdir -p "$dist/pkg" "$dist/assets"
wasm-bindgen --target web --no-typescript --out-name crm_frontend --out-dir "$dist/pkg" \
  "$target_dir/wasm32-unknown-unknown/wasm-release/crm-frontend.wasm"
wasm_opt=frontend/node_modules/.bin/wasm-opt
if [[ -x $wasm_opt ]]; then
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals -o "$dist/pkg/crm_frontend_bg.wasm" "$dist/pkg/crm_frontend_bg.wasm"
else
  echo "wasm-opt not found: the app works, only larger (run npm ci in frontend/)" >&2
fi
cp frontend/static/index.html "$dist/"
cp frontend/static/boot.js frontend/static/app.css "$dist/assets/"
cp frontend/node_modules/bootstrap/dist/css/bootstrap.min.css "$dist/assets/"

gz() { gzip -9c "$1" | wc -c; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
wasm=$(gz "$dist/pkg/crm_frontend_bg.wasm") js=$(gz "$dist/pkg/crm_frontend.js") css=$(gz "$dist/assets/bootstrap.min.css")
echo "web app built in $dist: wasm $(kb "$wasm") KB + js $(kb "$js") KB gzip -9" \
  "($(kb $((wasm + js))) KB in all; Bootstrap CSS $(kb "$css") KB)"
# WEB_APP_BUDGET_KB (set by the Makefile): the most the app, wasm + js gzipped, may weigh.
if [[ -n ${WEB_APP_BUDGET_KB:-} ]]; then
  if ((wasm + js > WEB_APP_BUDGET_KB * 1024)); then
    echo "web app too large: $(kb $((wasm + js))) KB gzip (wasm + js) is over its budget of" \
      "$WEB_APP_BUDGET_KB KB (WEB_APP_BUDGET_KB in the Makefile)" >&2
    exit 1
  fi
  echo "within the web app's budget of $WEB_APP_BUDGET_KB KB"
fi

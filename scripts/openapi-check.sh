#!/usr/bin/env bash
# Checks an OpenAPI description the way a client author meets it, one line per check:
#   validate     openapi-spec-validator: a valid OpenAPI document (every error listed)
#   conventions  what no validator sees: a file download is typed as a binary string, and a
#                response field that may be null is in `required` (the API sends it, as null)
#   generate     openapi-python-client makes a Python client with no warning and no error
#   import       the generated package and every module in it import
# Usage: scripts/openapi-check.sh [SPEC]   (default: openapi/openapi.json)
# The tools live in a virtual environment outside the repo, under
# ${CRM_TOOLS_DIR:-~/.cache/customer-manager}/openapi-venv, made again only when the pins below
# change. Needs python3 (3.11 or newer; or set CRM_PYTHON) with venv, and PyPI.
set -euo pipefail

if (( $# > 1 )); then
  echo "usage: $0 [SPEC]" >&2
  exit 2
fi
if (( $# == 1 )); then
  spec=$(realpath -e -- "$1" 2>/dev/null) || { echo "openapi-check: no such file: $1" >&2; exit 2; }
fi
cd "$(dirname "$0")/.."
spec=${spec:-$PWD/openapi/openapi.json}
[[ -f $spec ]] || { echo "openapi-check: no such file: $spec" >&2; exit 2; }

# Pinned: the two tools, and everything they pull in (the set they resolved to on Python 3.11).
# Not openapi-python-client 0.28.x-0.29.1: for a required request body with two content types
# (PATCH /invoices/{id}: JSON or multipart) they write `body: ... | Unset` without importing
# Unset, so the client does not import (upstream issue #1451).
validator_version=0.9.0
generator_version=0.27.1
requirements="openapi-spec-validator==$validator_version
openapi-python-client==$generator_version"
constraints="annotated-types==0.8.0
anyio==4.16.0
attrs==26.1.0
certifi==2026.10.19.post1
click==8.5.1
h11==0.16.0
httpcore==1.0.9
httpx==0.28.1
idna==3.20
Jinja2==3.1.6
jsonschema==4.26.0
jsonschema-path==0.5.0
jsonschema-specifications==2025.9.1
lazy-object-proxy==1.13.0
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
openapi-schema-validator==0.9.0
pathable==0.6.0
pydantic==2.14.4
pydantic-settings==2.16.3
pydantic_core==2.50.5
Pygments==2.21.0
python-dateutil==2.9.0.post0
python-dotenv==1.2.4
PyYAML==6.0.4
referencing==0.37.0
rfc3339-validator==0.1.4
rich==15.0.0
rpds-py==2026.9.1
ruamel.yaml==0.18.17
ruamel.yaml.clib==0.2.15
ruff==0.17.6
shellingham==1.5.4
six==1.17.0
typer==0.20.1
typing-inspection==0.4.5
typing_extensions==4.16.0"
package=customer_manager_client

tools=${CRM_TOOLS_DIR:-$HOME/.cache/customer-manager}
venv=$tools/openapi-venv
python=${CRM_PYTHON:-python3}
mkdir -p "$tools"

# --- the virtual environment: made (again) when missing or when the pins or Python change ---
ensure_venv() {
  local version stamp
  version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || {
    echo "openapi-check: $python not found (set CRM_PYTHON to a Python 3.11 or newer)" >&2
    return 1
  }
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "openapi-check: these checks need Python 3.11 or newer;" \
      "$python is $version (set CRM_PYTHON)" >&2
    return 1
  fi
  stamp=$(printf 'python %s\n%s\n%s\n' "$version" "$requirements" "$constraints")
  if [[ -x $venv/bin/python && -f $venv/.pins ]] && [[ $(cat "$venv/.pins") == "$stamp" ]]; then
    return 0
  fi
  echo "openapi-check: installing openapi-spec-validator $validator_version and" \
    "openapi-python-client $generator_version into $venv ..." >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  printf '%s\n' "$requirements" >"$venv/requirements.txt"
  printf '%s\n' "$constraints" >"$venv/constraints.txt"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      -r "$venv/requirements.txt" -c "$venv/constraints.txt" >"$venv/pip.log" 2>&1; then
    cat "$venv/pip.log" >&2
    rm -rf "$venv"
    echo "openapi-check: pip install failed" >&2
    return 1
  fi
  # Written last: an interrupted install is redone next time.
  printf '%s\n' "$stamp" >"$venv/.pins"
}

# One install at a time when several checks start together.
if command -v flock >/dev/null; then
  exec 9>"$tools/openapi-venv.lock"
  flock 9
fi
ensure_venv
if command -v flock >/dev/null; then
  exec 9>&-
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATH="$venv/bin:$PATH" PYTHONDONTWRITEBYTECODE=1
failed=0
show() { sed 's/^/    /' "$1"; }

# --- checks done in Python: validate (the spec validator) and conventions ---
cat >"$work/checks.py" <<'PY'
"""validate / conventions checks of an OpenAPI document: prints the problems, one per line."""
import json
import sys

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def where(path):
    """A JSON location as `paths['/x'].get.responses['200']`."""
    out = ""
    for part in path:
        part = str(part)
        out += f".{part}" if part.isidentifier() else f"[{part!r}]"
    return out.lstrip(".") or "(document)"


def validate(spec):
    from openapi_spec_validator.shortcuts import get_validator_cls

    problems = []
    for error in get_validator_cls(spec)(spec).iter_errors():
        location = list(getattr(error, "absolute_path", None) or [])
        prefix = f"{where(location)}: " if location else ""
        problems.append(prefix + error.message)
    return problems


def is_json(media_type):
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json")


def nullable(schema):
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind) or schema.get("nullable"):
        return True
    return any(nullable(s) for key in ("oneOf", "anyOf") for s in schema.get(key, []))


def conventions(spec):
    problems = []
    components = spec.get("components", {})
    schemas = components.get("schemas", {})

    def deref(obj, kind):
        ref = obj.get("$ref", "")
        prefix = f"#/components/{kind}/"
        return components.get(kind, {}).get(ref[len(prefix):], {}) if ref.startswith(prefix) else obj

    # Schemas that answers carry, found through every $ref from a JSON response body.
    reachable, todo = set(), []

    def walk(schema):
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in reachable:
                reachable.add(name)
                todo.append(schemas.get(name, {}))
        for key in ("properties", "patternProperties"):
            for sub in schema.get(key, {}).values():
                walk(sub)
        for key in ("items", "additionalProperties", "not"):
            walk(schema.get(key))
        for key in ("allOf", "oneOf", "anyOf", "prefixItems"):
            for sub in schema.get(key, []):
                walk(sub)

    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for code, response in operation.get("responses", {}).items():
                response = deref(response, "responses")
                for media_type, content in response.get("content", {}).items():
                    schema = content.get("schema")
                    if schema is None:
                        continue
                    if is_json(media_type):
                        walk(schema)
                    elif schema.get("type") != "string":
                        problems.append(
                            f"{method.upper()} {path} -> {code} {media_type}: a file is typed "
                            f"{json.dumps(schema, separators=(',', ':'))}; "
                            'it must be {"type":"string"} (format binary or contentMediaType)'
                        )
        while todo:
            walk(todo.pop())

    for name in sorted(reachable):
        schema = schemas.get(name, {})
        for part in [schema] + [s for s in schema.get("allOf", []) if "$ref" not in s]:
            required = set(part.get("required", []))
            for field, sub in part.get("properties", {}).items():
                if nullable(sub) and field not in required:
                    problems.append(
                        f"components.schemas.{name}.{field}: may be null but is not in "
                        "`required` (list it if the API always sends it; make it non-nullable "
                        "if the API leaves it out instead)"
                    )
    return problems


def main():
    check, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as file:
        try:
            spec = json.load(file)
        except json.JSONDecodeError as error:
            print(f"not JSON: {error}")
            return 1
    problems = {"validate": validate, "conventions": conventions}[check](spec)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


sys.exit(main())
PY

for check in validate conventions; do
  if python "$work/checks.py" "$check" "$spec" >"$work/$check.log" 2>&1; then
    case $check in
      validate) printf '%-12s ok  (openapi-spec-validator %s)\n' "$check" "$validator_version" ;;
      *) printf '%-12s ok\n' "$check" ;;
    esac
  else
    failed=1
    printf '%-12s FAILED: %s problem(s)\n' "$check" "$(grep -c . "$work/$check.log" || true)"
    show "$work/$check.log"
  fi
done

# --- generate: a Python client, with no warning and no error ---
# application/pdf is a download like application/octet-stream; the generator knows only the latter.
cat >"$work/config.yml" <<EOF
package_name_override: $package
content_type_overrides:
  application/pdf: application/octet-stream
EOF
generated=0
if (cd "$work" && openapi-python-client generate --path "$spec" --meta none \
      --config "$work/config.yml" --output-path "$work/$package" --fail-on-warning) \
      >"$work/generate.log" 2>&1 \
   && ! grep -Eq 'Warning\(s\) encountered|Error\(s\) encountered|^(WARNING|ERROR)' "$work/generate.log" \
   && ! grep -Evq '^(Generating .*)?$' "$work/generate.log" \
   && [[ -f $work/$package/__init__.py ]]; then
  generated=1
  printf '%-12s ok  (openapi-python-client %s)\n' generate "$generator_version"
else
  failed=1
  echo "generate     FAILED: openapi-python-client $generator_version reported:"
  show "$work/generate.log"
fi

# --- import: the generated package, and every module in it ---
if (( generated )); then
  if (cd "$work" && python - "$package" >"$work/import.log" 2>&1 <<'PY'
import importlib
import pkgutil
import sys

package = importlib.import_module(sys.argv[1])
package.Client, package.AuthenticatedClient  # what every caller starts from
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(module.name)
PY
  ); then
    printf '%-12s ok  (%s)\n' import "$package"
  else
    failed=1
    echo "import       FAILED: the generated $package does not import:"
    show "$work/import.log"
  fi
else
  echo "import       skipped (no client was generated)"
fi

exit "$failed"

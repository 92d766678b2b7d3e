# Control Tower: `make demo` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
TOOLS := .venv-tools
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: demo test bench lint settings-docs clean tools functions-lock checkov web firebase-emulator

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

# checkov (R7 of bench/reliability.py) in a virtualenv of its own: its pins conflict with the lock's.
$(TOOLS_STAMP): bench/tools.lock $(STAMP)
	test -x $(TOOLS)/bin/python || $(UV) venv --quiet --python $(PY) $(TOOLS)
	$(UV) pip sync --quiet --python $(TOOLS)/bin/python bench/tools.lock
	touch $(TOOLS_STAMP)

tools: $(TOOLS_STAMP)

# The lock the deployed functions install (the zip's requirements.txt, infra/package_source.py): the
# runtime's dependencies only, for Cloud Functions' platform, at the versions requirements.lock pins.
functions-lock: $(STAMP)
	$(UV) pip compile --quiet pyproject.toml --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--generate-hashes -c requirements.lock -o requirements-functions.lock

# checkov over main.tf and infra/: no failed check; every skip carries its reason in the code.
checkov: $(TOOLS_STAMP)
	BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false $(TOOLS)/bin/checkov -d . --framework terraform \
		--skip-download --quiet --compact --skip-path .venv --skip-path .venv-tools --skip-path shared \
		--skip-path tests --skip-path bench --skip-path functions --skip-path web --skip-path out

# The page (web/): npm ci when the lock changes, a build when a source does; the API serves web/dist.
WEB_SRC := $(shell find web/src web/public web/scripts -type f 2>/dev/null) web/index.html web/package.json \
	web/vite.config.ts web/tsconfig.json
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build

web: web/dist/index.html

# The official Firebase Auth emulator (firebase-tools, Node only) the identity tests and `tower serve` start:
# npm ci from its committed lock when the lock changes (about 30 s, 240 MB; no install scripts needed).
FIREBASE_DIR := shared/tower_dev/sandboxes/firebase_auth
$(FIREBASE_DIR)/node_modules/.package-lock.json: $(FIREBASE_DIR)/package-lock.json
	cd $(FIREBASE_DIR) && npm ci --no-audit --no-fund --ignore-scripts

firebase-emulator: $(FIREBASE_DIR)/node_modules/.package-lock.json

demo: $(STAMP) web firebase-emulator
	$(VENV)/bin/tower demo

test: $(STAMP) $(TOOLS_STAMP) web firebase-emulator
	cd web && npm test
	$(PY) -m pytest -n 2 --dist loadgroup -q tests

bench: $(STAMP) $(TOOLS_STAMP)
	$(PY) bench/world.py
	$(PY) bench/shopify_bulk.py
	$(PY) bench/shopify_sync.py
	$(PY) bench/models.py
	$(PY) bench/ai_context.py
	$(PY) bench/api.py
	$(PY) bench/reliability.py
	$(PY) bench/scale.py

# ruff; mypy over the library the functions ship ([tool.mypy] in pyproject.toml); sqlfluff over its SQL
# (BigQuery dialect, .sqlfluff); the import contracts of .importlinter (layers, tower_dev apart, no cycle).
lint: $(STAMP)
	$(VENV)/bin/ruff check shared functions tests bench
	$(VENV)/bin/mypy shared/tower
	$(VENV)/bin/sqlfluff lint shared/tower/sql
	PYTHONPATH=shared $(VENV)/bin/lint-imports

# Regenerate .env.example and the README's settings table from tower.config.Settings.
settings-docs: $(STAMP)
	$(VENV)/bin/tower settings --format env > .env.example
	$(PY) -c "import re,subprocess;t=subprocess.run(['$(VENV)/bin/tower','settings'],capture_output=True,text=True,check=True).stdout;p='README.md';s=open(p).read();s=re.sub(r'(<!-- settings:start -->\n).*?(<!-- settings:end -->)',lambda m:m.group(1)+t+m.group(2),s,flags=re.S);open(p,'w').write(s)"

clean:
	rm -rf $(VENV) $(TOOLS) .tower .pytest_cache web/node_modules web/dist test-artifacts $(FIREBASE_DIR)/node_modules

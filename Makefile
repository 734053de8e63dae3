# One command to run, one to test. Everything is installed into ./.venv by these targets.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
OPENCV_HEADLESS := opencv-python-headless==4.11.0.86
# mediapipe depends on the GUI build of OpenCV and pip puts it back on every install from the
# requirements; both provide cv2, so after each install keep only the headless one.
define HEADLESS_OPENCV
$(PIP) uninstall -y -q opencv-contrib-python opencv-python 2>/dev/null || true
$(PIP) install -q --force-reinstall --no-deps $(OPENCV_HEADLESS)
endef

.PHONY: install install-dev run test lint bench system-deps system-test-deps

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	$(HEADLESS_OPENCV)
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-ray.txt
	$(PIP) install -q -r requirements-dev.txt
	$(HEADLESS_OPENCV)
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

run: install system-deps
	$(PY) -m app serve

# WeasyPrint (the PDF report) needs Pango, HarfBuzz's subsetter and a font (Debian 12 packages).
REPORT_LIBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
system-deps:
	@dpkg -s $(REPORT_LIBS) >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(REPORT_LIBS) >/dev/null; }

# Debian's Chromium for the browser tests (never a browser download by a test tool); pdftotext
# (poppler-utils) reads the PDF report back in its test.
system-test-deps: system-deps
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@command -v pdftotext >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }
	@command -v pg_isready >/dev/null 2>&1 && { pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; } || true

lint: install-dev
	$(PY) -m ruff check app tests bench
	$(PY) -m mypy app

test: install-dev system-test-deps lint
	$(PY) -m pytest -q

bench: install-dev
	$(PY) bench/ws_turns.py

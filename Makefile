# GroundShake developer targets. The repository root is the plugin folder.
#   make package   installable plugin zip in dist/ (no tests, CI or dev files)
#   make i18n      refresh i18n/*.ts from the sources and compile them to .qm
#   make qm        compile i18n/*.ts to .qm only
#   make clean     remove build output

PLUGIN      := groundshake
VERSION     := $(shell sed -n 's/^version=//p' metadata.txt)
DIST        := dist
BUILD       := build/$(PLUGIN)
PYLUPDATE   ?= pylupdate5
LRELEASE    ?= $(shell command -v lrelease 2>/dev/null || echo /usr/lib/qt5/bin/lrelease)
LOCALES     := es ja
TS_FILES    := $(foreach l,$(LOCALES),i18n/$(PLUGIN)_$(l).ts)
PY_SOURCES   = $(shell find plugin -name '*.py' -not -path '*/__pycache__/*' | sort)

# What the installed plugin needs, and nothing else.
PACKAGE_FILES := metadata.txt __init__.py LICENSE plugin gm_engine resources i18n
PACKAGE_EXCLUDES := --exclude='__pycache__' --exclude='*.pyc' --exclude='*.ts' \
	--exclude='*.part' --exclude='tests' --exclude='.*'

.PHONY: package i18n qm clean

package: qm
	rm -rf build/$(PLUGIN) $(DIST)/$(PLUGIN)-$(VERSION).zip
	mkdir -p $(BUILD) $(DIST)
	tar -cf - $(PACKAGE_EXCLUDES) $(wildcard $(PACKAGE_FILES)) | tar -xf - -C $(BUILD)
	cd build && zip -qr9 ../$(DIST)/$(PLUGIN)-$(VERSION).zip $(PLUGIN)
	@echo "$(DIST)/$(PLUGIN)-$(VERSION).zip"

i18n:
	$(PYLUPDATE) -noobsolete $(PY_SOURCES) -ts $(TS_FILES)
	$(MAKE) qm

# compile only (packaging must not rewrite the translation sources)
qm:
	$(LRELEASE) -silent $(TS_FILES)

clean:
	rm -rf build $(DIST)
	find . -path ./.venv -prune -o -name '__pycache__' -type d -prune -exec rm -rf {} +

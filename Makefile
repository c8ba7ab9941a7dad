# ptc: the phone template compiler.
#
#   make            build build/ptc (installs missing Debian build deps first)
#   make check      build and run every test suite (Check + CLI + conformance)
#   make check SANITIZE=1   the same under AddressSanitizer + UBSan
#   make demo       run the bundled example into demo/
#   make install    PREFIX=/usr/local DESTDIR=
#
# Our code is compiled with -Wall -Wextra -Werror.  The re2c and bison output
# is generated code: it gets GEN_CFLAGS, which drop the warnings the generators
# are known to trip (unused labels/functions, sign comparisons).

PREFIX   ?= /usr/local
DESTDIR  ?=
B        ?= build
CC       ?= cc
RE2C     ?= re2c
BISON    ?= bison

PKGS      := sqlite3 libmicrohttpd gnutls jansson libxcrypt
# libpq: its headers at build time; the library is loaded on first use
# (src/sql/sql_pg.c), not linked.
PQ_CFLAGS := $(shell pkg-config --cflags libpq 2>/dev/null)
DEP_PKGS  := re2c bison check pkg-config libsqlite3-dev libmicrohttpd-dev \
             libgnutls28-dev sqlite3 libsubunit-dev curl libxml2-utils libcsv-dev \
             libjansson-dev libcrypt-dev libpq-dev

ifeq ($(SANITIZE),1)
  B := build-san
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

OPT      ?= -O2 -g
BASEFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(SANFLAGS) -Iinclude -I$(B)/gen \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(PQ_CFLAGS)
CFLAGS_W  = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
GEN_CFLAGS = -Wall -Wno-unused-function -Wno-unused-label -Wno-sign-compare
LDLIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lpthread -ldl
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)
LDFLAGS  += $(SANFLAGS)

GEN_C   := $(B)/gen/lexer.c $(B)/gen/parser.c
# One folder per subsystem (docs/architecture.md); src/cmd/main.c is the
# program, everything else is the library the tests link too.
LIB_SRC := $(filter-out src/cmd/main.c,$(wildcard src/*/*.c)) $(wildcard runtime/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(B)/gen/lexer.o $(B)/gen/parser.o $(B)/gen/web_assets.o
# The web interface's pages, compiled in (tools/embed.sh; a build output).
WEB_FILES := $(sort $(wildcard web/*.html web/*.css web/*.js web/*.svg))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)

.PHONY: all deps test-deps check check-valgrind check-web demo install install-service clean bench fuzz
all: deps $(B)/ptc

# ---- dependencies -----------------------------------------------------------
# $(call missing_pkgs,PACKAGES): shell that sets $missing to those of
# PACKAGES that dpkg does not have installed.
missing_pkgs = missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done

# Installs what a fresh Debian machine lacks (as root), or says the command.
deps:
	@$(call missing_pkgs,$(DEP_PKGS)); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "deps: missing$$missing; run: sudo apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi; \
	$(RE2C) --version | grep -Eq '^re2c ([3-9]|[1-9][0-9])\.' || { echo "deps: re2c >= 3.0 required" >&2; exit 1; }; \
	$(BISON) --version | head -1 | grep -Eq ' 3\.([8-9]|[1-9][0-9])' || { echo "deps: bison >= 3.8 required" >&2; exit 1; }

# ---- generated front end ----------------------------------------------------
$(B)/gen/lexer.c: grammar/lexer.re $(B)/gen/parser.c
	@mkdir -p $(@D)
	$(RE2C) -W --no-generation-date -o $@ $<

$(B)/gen/parser.c: grammar/parser.y | deps
	@mkdir -p $(@D)
	$(BISON) -Wall -Werror --no-lines --defines=$(B)/gen/parser.h -o $@ $<

$(B)/gen/web_assets.c: $(WEB_FILES) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh $@ $(WEB_FILES)

$(B)/gen/web_assets.o: $(B)/gen/web_assets.c src/web/web_assets.h
	$(CC) $(BASEFLAGS) -Isrc/web -Wall -Wextra -Werror -c -o $@ $<

$(B)/gen/%.o: $(B)/gen/%.c
	$(CC) $(BASEFLAGS) $(GEN_CFLAGS) -MMD -c -o $@ $<

# ---- our code ---------------------------------------------------------------
$(B)/%.o: %.c $(GEN_C)
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(CFLAGS_W) -MMD -MP -c -o $@ $<

$(B)/libptc.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/ptc: $(B)/src/cmd/main.o $(B)/libptc.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/%.c $(B)/libptc.a tests/testutil.h
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(CFLAGS_W) -Wno-missing-prototypes $(LDFLAGS) -o $@ $< $(B)/libptc.a $(CHECK_LIBS) $(LDLIBS)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

# ---- tests ------------------------------------------------------------------
# What only the tests need: strace (tests/cli/run_incremental.sh sees which
# files a rerun reads) and a PostgreSQL server for tests/cli/pg.sh, which
# starts its own private one (Debian's package also starts a cluster of its
# own where systemd runs; the tests never use it).
TEST_DEP_PKGS := postgresql strace
test-deps:
	@$(call missing_pkgs,$(TEST_DEP_PKGS)); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "test-deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
	      echo "test-deps: cannot install$$missing: the tests that need it will say they skipped" >&2; \
	  else \
	    echo "test-deps: missing$$missing (sudo apt-get install -y$$missing): the tests that need it will skip" >&2; \
	  fi; \
	fi

check: all test-deps $(TEST_BIN)
	@PTC=$$PWD/$(B)/ptc SHARED=$${SHARED:-$$PWD/../shared} CK_FORK=$${CK_FORK:-yes} \
	  tests/run-all.sh $(TEST_BIN)

# The pages in a real browser: Debian's Chromium driven by playwright-core
# (pinned; npm installs it under $(B)/node, nothing global), against a real
# ptc web.  Screenshots of every page land in $(B)/web-shots.
PLAYWRIGHT_VERSION := 1.65.1
check-web: all
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "check-web: run: sudo apt-get install -y chromium" >&2; exit 1; }
	@command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; } || \
	  { echo "check-web: run: sudo apt-get install -y npm" >&2; exit 1; }
	@[ -f $(B)/node/node_modules/playwright-core/package.json ] && \
	  grep -q '"version": "$(PLAYWRIGHT_VERSION)"' $(B)/node/node_modules/playwright-core/package.json || \
	  { mkdir -p $(B)/node && cd $(B)/node && npm install --no-save --no-audit --no-fund --silent \
	      playwright-core@$(PLAYWRIGHT_VERSION); }
	@PTC=$$PWD/$(B)/ptc NODE_DIR=$$PWD/$(B)/node SHOTS=$$PWD/$(B)/web-shots tests/web/run.sh

demo: all
	@tests/demo.sh $(B)/ptc

# Generation speed against the physical limit (bench/run.sh), then the
# server under load next to nginx (bench/serve.sh; skipped without wrk/nginx),
# then `ptc status` over 50,000 phones (bench/status.sh), then the web
# interface's calls on 20,000 phones (bench/web.sh).
bench: all
	@bench/run.sh $(B)/ptc
	@bench/serve.sh $(B)/ptc
	@bench/status.sh $(B)/ptc
	@bench/web.sh $(B)/ptc
	@bench/pg.sh $(B)/ptc

# ---- install ----------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	           $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/ptc/templates
	install -m 0755 $(B)/ptc $(DESTDIR)$(PREFIX)/bin/ptc
	install -m 0644 docs/ptc.1 $(DESTDIR)$(PREFIX)/share/man/man1/ptc.1
	install -m 0644 docs/ptc-template.5 $(DESTDIR)$(PREFIX)/share/man/man5/ptc-template.5
	install -m 0644 templates/*.conf $(DESTDIR)$(PREFIX)/share/ptc/templates/

# The systemd unit (docs/ptc-serve.service) and the unprivileged user it runs
# as.  The tree's group is the administrator's step (docs/serve.md).
SYSTEMD_DIR ?= /etc/systemd/system
install-service:
	install -d $(DESTDIR)$(SYSTEMD_DIR) $(DESTDIR)/etc/ptc
	sed 's|/usr/local/bin/ptc|$(PREFIX)/bin/ptc|g' docs/ptc-serve.service >$(DESTDIR)$(SYSTEMD_DIR)/ptc-serve.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_DIR)/ptc-serve.service
	@if [ -z "$(DESTDIR)" ] && ! getent passwd ptc >/dev/null; then \
	  echo "install-service: adding the system user ptc"; \
	  useradd --system --user-group --no-create-home --home-dir /var/lib/ptc --shell /usr/sbin/nologin ptc; \
	fi
	@echo "install-service: now give the tree to the group ptc (docs/serve.md, Running as a service):"
	@echo "  chgrp -R ptc /mnt/kd/phoneprov && find /mnt/kd/phoneprov -type d -exec chmod g+s {} +"

clean:
	rm -rf build build-san demo

# ---- valgrind ---------------------------------------------------------------
# Every suite again under memcheck: the Check binaries directly, and ptc in
# the CLI tests through a wrapper (tests/valgrind-ptc.sh).
check-valgrind: all test-deps $(TEST_BIN)
	@PTC=$$PWD/tests/valgrind-ptc.sh PTC_REAL=$$PWD/$(B)/ptc SHARED=$${SHARED:-$$PWD/../shared} \
	  CK_FORK=no VALGRIND=1 tests/run-all.sh $(TEST_BIN)

fuzz: all
	@fuzz/run.sh

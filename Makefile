# ag - a toolkit of small Unix commands for running agents in the background.
#
#   make              build everything into $(BUILD)/
#   make check        build, install into a scratch DESTDIR, run every test
#   make check SAN=1  the same under AddressSanitizer + UBSan (build-san/)
#   make install      PREFIX=/usr/local DESTDIR=
#   make demo         build, then run examples/demo.sh
#   make bench        benchmarks side by side with tsp and nq
#   make clean

VERSION  = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
CSTD     = -std=c11 -D_GNU_SOURCE
# snprintf truncates on purpose (bounded buffers): its truncation warning
# would only flag the bound doing its job.
WARN     = -Wall -Wextra -Werror -Wno-unused-parameter
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null | head -n 1)),clang)
WARN    += -Wno-format-truncation
endif
OPT     ?= -O2 -g
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined
OPT      = -O1 -g
else
BUILD   ?= build
SANFLAGS =
endif
CPPFLAGS += -iquote lib -DAG_VERSION='"$(VERSION)"'
CFLAGS  += $(CSTD) $(WARN) $(OPT) $(SANFLAGS)
LDFLAGS += $(SANFLAGS) -Wl,-O1 -Wl,--as-needed
# libjq ships no pkg-config file.
JQ_LIBS  = -ljq -lonig

# The hot commands link only libjq: libgit2 and libarchive cost ~6 ms of
# start-up each time a process starts, and these run in shell loops.
CMDS     = ag ag-spawn ag-wait ag-ps ag-session ag-handoff ag-stop ag-task ag-watchdog ag-cost
# The hot ones do not even load libjq until they first touch JSON: they
# link lib/jvlazy.c (dlopen on first use) instead, ~0.3-0.5 ms a start.
LAZY_CMDS = ag-spawn ag-wait ag-ps ag-task ag-stop ag-watchdog
# The hottest are linked statically with musl (MUSL=1, the default but
# under SAN=1): a glibc process starts in ~1.1 ms here, a musl one in
# 0.1 ms (lib/jvnone.c says why, and how they do without libjq).  Their
# builds with libjq, which they run again where they need JSON, go to
# libexec/ag/jq; ag-monitor writes the ends of ag-spawn's agents.
ifeq ($(SAN),1)
MUSL    ?= 0
else
MUSL    ?= 1
endif
MUSLCC  ?= musl-gcc
ifeq ($(MUSL),1)
MUSL_CMDS = ag ag-spawn ag-wait
LAZY_CMDS := $(filter-out $(MUSL_CMDS),$(LAZY_CMDS))
JQ_BINS  = $(filter-out $(BUILD)/libexec/ag/jq/ag,$(MUSL_CMDS:%=$(BUILD)/libexec/ag/jq/%))
else
MUSL_CMDS =
JQ_BINS  =
endif
# Helpers run by the commands, never by users: only they link libarchive
# (and later libgit2).
HELPERS  = ag-session-archive ag-monitor
LIBEXEC  = $(PREFIX)/libexec/ag
LIB_SRC  = $(filter-out lib/jvlazy.c lib/jvnone.c,$(wildcard lib/*.c))
LIB_OBJ  = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
BINS     = $(CMDS:%=$(BUILD)/bin/%)
HELPER_BINS = $(HELPERS:%=$(BUILD)/libexec/ag/%)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MANS     = $(wildcard man/*.[157])
# The wiring for make, cron and Claude Code, installed as documentation.
EXDIR    = $(PREFIX)/share/doc/ag/examples
EXAMPLES = examples/Makefile examples/crontab examples/demo.sh
EXAMPLE_BINS = examples/worker examples/fake-agent

.PHONY: all check install uninstall demo bench clean deps lint fuzz
.SECONDARY:
all: deps $(BINS) $(HELPER_BINS) $(JQ_BINS) $(UNITS)

# Missing -dev packages: install them as root, else say exactly what to run.
DEB_PKGS = libgit2-dev libjq-dev libonig-dev libarchive-dev musl-tools
deps: $(BUILD)/.deps-ok
$(BUILD)/.deps-ok:
	@missing=""; \
	for h in jq.h:libjq-dev oniguruma.h:libonig-dev git2.h:libgit2-dev \
	         archive.h:libarchive-dev; do \
	  f=$${h%%:*}; p=$${h##*:}; \
	  [ -e /usr/include/$$f ] || missing="$$missing $$p"; \
	done; \
	if [ "$(MUSL)" = 1 ] && ! command -v $(MUSLCC) >/dev/null; then \
	  missing="$$missing musl-tools"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing packages; run:"; \
	    echo "  sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi
	@mkdir -p $(@D) && touch $@

$(BUILD)/lib/%.o: lib/%.c lib/*.h | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libag.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/cmd/%.o: cmd/%.c lib/*.h | deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/bin/%: $(BUILD)/cmd/%.o $(BUILD)/libag.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(JQ_LIBS) -lpthread

$(LAZY_CMDS:%=$(BUILD)/bin/%): $(BUILD)/bin/%: $(BUILD)/cmd/%.o \
    $(BUILD)/lib/jvlazy.o $(BUILD)/libag.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -ldl -lpthread

$(BUILD)/libexec/ag/ag-session-archive: $(BUILD)/cmd/ag-session-archive.o \
    $(BUILD)/libag.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -larchive $(JQ_LIBS)

$(BUILD)/libexec/ag/ag-monitor: $(BUILD)/cmd/ag-monitor.o $(BUILD)/libag.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(JQ_LIBS) -lpthread

$(JQ_BINS): $(BUILD)/libexec/ag/jq/%: $(BUILD)/cmd/%.o $(BUILD)/libag.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(JQ_LIBS) -lpthread

# The musl build: lib/ and the commands again, with AG_NOJQ.  musl-gcc
# sees only musl's headers: jv.h and the kernel's are linked in beside.
MUSL_DIR = $(BUILD)/musl
MUSL_OBJ = $(LIB_SRC:lib/%.c=$(MUSL_DIR)/lib/%.o) $(MUSL_DIR)/lib/jvnone.o
MULTIARCH := $(shell $(MUSLCC) -print-multiarch 2>/dev/null)
$(MUSL_DIR)/include/.ok: | deps
	@mkdir -p $(@D)
	ln -sfn /usr/include/jv.h /usr/include/linux /usr/include/asm-generic $(@D)/
	ln -sfn /usr/include/$(MULTIARCH)/asm $(@D)/asm
	@touch $@
# (musl-gcc is a gcc, whatever CC is.)
MUSL_CFLAGS = $(CPPFLAGS) -DAG_NOJQ -isystem $(MUSL_DIR)/include $(CSTD) \
	      $(filter-out -Wno-format-truncation,$(WARN)) \
	      -Wno-format-truncation $(OPT)
$(MUSL_DIR)/lib/%.o: lib/%.c lib/*.h $(MUSL_DIR)/include/.ok
	@mkdir -p $(@D)
	$(MUSLCC) $(MUSL_CFLAGS) -c -o $@ $<
$(MUSL_DIR)/cmd/%.o: cmd/%.c lib/*.h $(MUSL_DIR)/include/.ok
	@mkdir -p $(@D)
	$(MUSLCC) $(MUSL_CFLAGS) -c -o $@ $<
$(MUSL_DIR)/libag.a: $(MUSL_OBJ)
	rm -f $@
	ar rcs $@ $^
$(MUSL_CMDS:%=$(BUILD)/bin/%): $(BUILD)/bin/%: $(MUSL_DIR)/cmd/%.o \
    $(MUSL_DIR)/libag.a
	@mkdir -p $(@D)
	$(MUSLCC) -static $(LDFLAGS) -o $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libag.a tests/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libag.a $(JQ_LIBS) -lm

# libFuzzer targets (clang): FUZZTIME seconds each, from tests/fuzz/corpus.
# Leak checks are off: libjq 1.6 itself leaks on some malformed input.
FUZZTIME ?= 60
FUZZ_SRC = lib/jscan.c
fuzz: | deps
	@mkdir -p build-fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -iquote lib \
	  -fsanitize=fuzzer,address,undefined -o build-fuzz/jscan \
	  tests/fuzz/jscan.c $(FUZZ_SRC) $(JQ_LIBS) -lm
	mkdir -p build-fuzz/corpus && cp tests/fuzz/corpus/* build-fuzz/corpus/
	ASAN_OPTIONS=detect_leaks=0 build-fuzz/jscan -max_total_time=$(FUZZTIME) -max_len=4096 -detect_leaks=0 \
	  build-fuzz/corpus

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(LIBEXEC)
	install -m 755 $(HELPER_BINS) $(DESTDIR)$(LIBEXEC)/
ifneq ($(JQ_BINS),)
	install -d $(DESTDIR)$(LIBEXEC)/jq
	install -m 755 $(JQ_BINS) $(DESTDIR)$(LIBEXEC)/jq/
endif
	for m in $(MANS); do \
	  s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	for c in $(CMDS); do \
	  install -m 644 completions/ag.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$c; done
	install -m 644 completions/_ag $(DESTDIR)$(PREFIX)/share/zsh/site-functions/
	for c in $(CMDS); do \
	  install -m 644 completions/$$c.fish \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/; done
	install -d $(DESTDIR)$(EXDIR)/claude
	install -m 644 $(EXAMPLES) $(DESTDIR)$(EXDIR)/
	install -m 755 $(EXAMPLE_BINS) $(DESTDIR)$(EXDIR)/
	install -m 644 examples/claude/settings.json $(DESTDIR)$(EXDIR)/claude/
	install -m 755 examples/claude/ag-claude-hook $(DESTDIR)$(EXDIR)/claude/

uninstall:
	for c in $(CMDS); do rm -f $(DESTDIR)$(BINDIR)/$$c \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$c \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$c.fish; done
	rm -f $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_ag
	for c in $(HELPERS); do rm -f $(DESTDIR)$(LIBEXEC)/$$c; done
	for c in $(MUSL_CMDS); do rm -f $(DESTDIR)$(LIBEXEC)/jq/$$c; done
	-rmdir $(DESTDIR)$(LIBEXEC)/jq 2>/dev/null
	for m in $(MANS); do s=$${m##*.}; \
	  rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; done
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/ag

# Tests drive the installed commands, as a user would.
TESTROOT = $(CURDIR)/$(BUILD)/destdir
check: all
	@rm -rf $(TESTROOT)
	@$(MAKE) --no-print-directory install DESTDIR=$(TESTROOT) PREFIX=/usr \
	  >/dev/null
	@AG_BIN=$(TESTROOT)/usr/bin AG_UNITS="$(UNITS)" AG_SAN=$(SAN) \
	  sh tests/run

lint:
	mandoc -Tlint -Wwarning $(MANS)

demo: all
	@sh examples/demo.sh $(CURDIR)/$(BUILD)/bin

bench: all
	@sh tests/bench/run $(CURDIR)/$(BUILD)/bin
	@sh tests/bench/sessions $(CURDIR)/$(BUILD)/bin
	@sh tests/bench/control $(CURDIR)/$(BUILD)/bin
	@sh tests/bench/cost $(CURDIR)/$(BUILD)/bin

clean:
	rm -rf build build-san build-fuzz

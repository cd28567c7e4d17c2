# vastrack: one GNU Makefile for the library, the command, tests, fuzzers and benchmarks.
#
#   make            build/libvastrack.a, build/libvastrack.so, build/vastrack (release, -O2)
#   make test       ASan+UBSan build of everything, then every test; ends "N passed, N failed"
#   make demo       the main job end to end on the embedded defaults
#   make bench      benchmarks, one JSON line each
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
#   make fuzz-seeds each fuzz target once over its seeds
#   make deps       installs missing Debian packages (root) or prints the apt-get line
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
VERSION := 0.1.0
SOVER   := 0

# Debian packages needed to build and test; `make deps` installs the missing ones.
DEB_PKGS := build-essential pkg-config libexpat1-dev libcurl4-openssl-dev libsqlite3-dev \
            libuv1-dev librdkafka-dev liburing-dev nginx-light wrk clang libclang-rt-14-dev \
            curl jq clang-format libjansson-dev
DEB_PKGS += libavformat-dev libavcodec-dev libavutil-dev ffmpeg
DEB_PKGS += python3 python3-dev python3-cffi python3-pytest python3-venv python3-pip \
            python3-setuptools python3-wheel
PKGS     := expat libcurl sqlite3 libuv rdkafka liburing jansson
PKGS     += libavformat libavcodec libavutil

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter $(if $(WERROR),-Werror)
CSTD    := -std=gnu11
CPPFLAGS_ALL := -Iinclude -Ilib -D_GNU_SOURCE $(PKG_CFLAGS)
OPT     ?= -O2 -g
NPROC   := $(shell nproc 2>/dev/null || echo 2)

# Build flavours: release in build/, sanitizers in build/asan/.
# BUILDROOT lets several builds of one tree run side by side (BUILDROOT=/tmp/x).
BUILDROOT ?= build
ifeq ($(FLAVOUR),asan)
  B       := $(BUILDROOT)/asan
  FLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
  B       := $(BUILDROOT)
  FLAGS   := $(OPT)
endif

LIB_SRC  := $(filter-out $(EXCLUDE),$(sort $(wildcard lib/*/*.c)))
CLI_SRC  := $(filter-out $(EXCLUDE),$(sort $(wildcard src/*.c src/*/*.c)))
TEST_SRC := $(filter-out $(EXCLUDE),$(sort $(wildcard tests/unit/test-*.c)))
BENCH_SRC:= $(sort $(wildcard bench/bench-*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(B)/obj/%.o)
PIC_OBJ  := $(LIB_SRC:%.c=$(B)/pic/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(B)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_BIN:= $(BENCH_SRC:bench/%.c=$(B)/bench/%)


.PHONY: all lib test check demo bench fuzz deps install clean asan tests-bin format fuzz-seeds abi
all: $(B)/libvastrack.a $(B)/libvastrack.so $(B)/vastrack

# Each object depends on the headers it includes (-MMD writes them to a .d file beside it).
$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(FLAGS) $(CPPFLAGS_ALL) $(CFLAGS) -MMD -MP -fvisibility=hidden -c $< -o $@

$(B)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(FLAGS) $(CPPFLAGS_ALL) $(CFLAGS) -MMD -MP -fPIC -fvisibility=hidden -c $< -o $@

-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

$(B)/libvastrack.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libvastrack.so: $(PIC_OBJ) lib/vastrack.map
	$(CC) -shared $(FLAGS) -Wl,-soname,libvastrack.so.$(SOVER) -Wl,--version-script=lib/vastrack.map \
	  -o $@ $(PIC_OBJ) $(PKG_LIBS) -lpthread -lm $(LDFLAGS)

# The position-independent objects as an archive, for the Python binding (python/setup.py).
$(B)/libvastrack_pic.a: $(PIC_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/vastrack: $(CLI_OBJ) $(B)/libvastrack.a
	$(CC) $(FLAGS) -o $@ $(CLI_OBJ) $(B)/libvastrack.a $(PKG_LIBS) -lpthread -lm $(LDFLAGS)

$(B)/tests/%: tests/unit/%.c tests/harness.h tests/jsoncheck.h $(B)/libvastrack.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(FLAGS) $(CPPFLAGS_ALL) -Itests $(CFLAGS) -o $@ $< $(B)/libvastrack.a $(PKG_LIBS) -lpthread -lm

# The command's option parser (src/opts.c) is tested on its own, with the CLI's shared code.
$(B)/tests/test-opts: tests/unit/test-opts.c src/opts.c src/opts.h src/cli.c src/cli.h tests/harness.h $(B)/libvastrack.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(FLAGS) $(CPPFLAGS_ALL) -Itests -Isrc $(CFLAGS) -o $@ $< src/opts.c src/cli.c $(B)/libvastrack.a $(PKG_LIBS) -lpthread -lm

$(B)/bench/%: bench/%.c bench/bench-nginx.h $(B)/libvastrack.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(FLAGS) $(CPPFLAGS_ALL) $(CFLAGS) -o $@ $< $(B)/libvastrack.a $(PKG_LIBS) -lpthread -lm

# examples/*.c: built with the library (make), run by the tests (tests/cli/example.sh).
EXAMPLE_BIN := $(patsubst examples/%.c,$(B)/examples/%,$(sort $(wildcard examples/*.c)))
all: $(EXAMPLE_BIN)
$(B)/examples/%: examples/%.c $(B)/libvastrack.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(FLAGS) $(CPPFLAGS_ALL) $(CFLAGS) -o $@ $< $(B)/libvastrack.a $(PKG_LIBS) -lpthread -lm

# The web pages (web/*) built into the library as C arrays (lib/web/web-assets.c).
WEB_SRC := $(sort $(wildcard web/*))
$(B)/gen/web-assets.h: $(WEB_SRC) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh $(WEB_SRC) > $@.tmp && mv $@.tmp $@
$(B)/obj/lib/web/web-assets.o $(B)/pic/lib/web/web-assets.o: $(B)/gen/web-assets.h
$(B)/obj/lib/web/web-assets.o $(B)/pic/lib/web/web-assets.o: CPPFLAGS_ALL += -I$(B)/gen
# The SSAI service's own page (lib/ssai/ssai-page.html), built into ssai-http.c.
$(B)/gen/ssai/ssai-page.h: lib/ssai/ssai-page.html tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh $< > $@.tmp && mv $@.tmp $@
$(B)/obj/lib/ssai/ssai-http.o $(B)/pic/lib/ssai/ssai-http.o: $(B)/gen/ssai/ssai-page.h
$(B)/obj/lib/ssai/ssai-http.o $(B)/pic/lib/ssai/ssai-http.o: CPPFLAGS_ALL += -I$(B)/gen

# Helper programs the shell tests run (tests/helpers/*.c; not tests themselves).
HELPER_BIN := $(patsubst tests/helpers/%.c,$(B)/tests/helpers/%,$(sort $(wildcard tests/helpers/*.c)))
$(B)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(FLAGS) $(CPPFLAGS_ALL) $(CFLAGS) -o $@ $< $(PKG_LIBS) -lpthread -lm

tests-bin: all $(TEST_BIN) $(HELPER_BIN)

deps:
	@sh tools/deps.sh $(DEB_PKGS)

# The sanitizer build is a second make of the same tree into build/asan.
# Warnings are errors in every build of make test (WERROR=1 reaches the nested makes
# the tests run: fuzz-seeds, the install and Python builds).
test check: deps
	@$(MAKE) --no-print-directory -j$(NPROC) FLAVOUR=asan WERROR=1 tests-bin
	@$(MAKE) --no-print-directory -j$(NPROC) WERROR=1 all
	@sh tests/run.sh $(BUILDROOT)/asan

demo: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@sh tools/demo.sh $(B)

# A second make after deps, so pkg-config sees what deps installed.
bench: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all $(BENCH_BIN)
	@sh bench/run.sh $(B)

fuzz: deps
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk

# Each fuzz target once over its seeds (no fuzzing): a quick regression check.
fuzz-seeds:
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk seeds

format:
	sh tools/format.sh

# Records the ABI of build/libvastrack.so in abi/vastrack.abi (docs/architecture.md, "ABI").
abi: all
	sh tools/abi.sh $(B) > abi/vastrack.abi

# Requires.private is $(PKGS): every library the static archive needs, from one list.
vastrack.pc: vastrack.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PKGS)|' $< > $@

install: all vastrack.pc
	install -d $(DESTDIR)$(PREFIX)/include/vastrack $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/vastrack.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/vastrack/*.h $(DESTDIR)$(PREFIX)/include/vastrack/
	install -m 644 $(B)/libvastrack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libvastrack.so $(DESTDIR)$(PREFIX)/lib/libvastrack.so.$(VERSION)
	ln -sf libvastrack.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libvastrack.so.$(SOVER)
	ln -sf libvastrack.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libvastrack.so
	install -m 644 vastrack.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(B)/vastrack $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build vastrack.pc

# fuzz.mk: libFuzzer builds (clang-14) of every fuzz/fuzz-*.c against the
# library sources it exercises, each run for FUZZ_SECONDS.
#   make fuzz FUZZ_SECONDS=600
# fuzz-parse:   vast_doc_parse and the JSON/tree writers, seeded from the corpus
# fuzz-http:    the collector's request parser and percent-decoder
# fuzz-journal: the collector's journal recovery (files left by a crash)
# fuzz-h1:      the dispatcher's fast-path HTTP/1.1 response parser (lib/net/h1.c)
# fuzz-probe:   the media probe's bounded reader glue over libavformat (seeds:
#               small media made with ffmpeg into build/fuzz/seeds-probe)
# Every target is built with ASan and UBSan, and both halt on the first error
# (-fno-sanitize-recover, halt_on_error): a report is a failure, not a log line.
#   make fuzz-seeds   runs each target once over its seeds only (a regression
#                     check: every finding's input is kept in fuzz/seeds-*)
FUZZ_SECONDS ?= 60
CORPUS ?= $(or $(VASTRACK_CORPUS),../shared/corpus)
CLANG ?= $(shell command -v clang-14 || command -v clang)
FB := build/fuzz
PKGS := expat libcurl sqlite3 libuv rdkafka
PKGS += libavformat libavcodec libavutil
FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(if $(WERROR),-Werror -Wall) \
         -Iinclude -Ilib -D_GNU_SOURCE \
         $(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
NAMES := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz-*.c))
TARGETS := $(addprefix $(FB)/,$(NAMES))

# What each target links, its dictionary and its seeds (all of base, which uses nothing).
SRC_fuzz-parse := $(wildcard lib/base/*.c lib/parse/*.c)
SRC_fuzz-http := lib/collect/collect-http.c lib/base/url.c
SRC_fuzz-journal := lib/collect/journal.c lib/collect/store.c
SRC_fuzz-h1 := lib/net/h1.c lib/net/fetch.c $(wildcard lib/base/*.c)
DICT_fuzz-parse := -dict=fuzz/vast.dict
DICT_fuzz-http := -dict=fuzz/http.dict
SEEDS_fuzz-http := fuzz/seeds-http
SEEDS_fuzz-journal := fuzz/seeds-journal
SEEDS_fuzz-h1 := fuzz/seeds-h1
SEEDS_fuzz-parse := fuzz/seeds-parse $(FB)/seeds-parse
export UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS := halt_on_error=1:detect_leaks=1
# Recovery checks each record's CRC-32C: the journal target builds without that
# check so that the fuzzer's records reach the rest of recovery and SQLite.
DEFS_fuzz-journal := -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
SRC_fuzz-probe := lib/probe/probe.c lib/net/fetch.c $(wildcard lib/base/*.c)
SEEDS_fuzz-probe := $(FB)/seeds-probe

run: $(TARGETS) corpus-seeds
	@$(foreach n,$(NAMES), \
	  mkdir -p $(FB)/corpus-$(n) && \
	  echo "fuzz: $(n) for $(FUZZ_SECONDS)s" && \
	  $(FB)/$(n) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(DICT_$(n)) \
	      -artifact_prefix=$(FB)/$(n)- $(FB)/corpus-$(n) \
	      $(SEEDS_$(n)) || exit 1;)

# Every seed once, no fuzzing: what CI (tests/e2e/fuzz-seeds.sh) runs.
seeds: $(TARGETS) corpus-seeds
	@$(foreach n,$(NAMES), \
	  echo "fuzz seeds: $(n)" && \
	  $(FB)/$(n) -runs=0 -artifact_prefix=$(FB)/$(n)-seed- $(SEEDS_$(n)) \
	      > $(FB)/$(n).seeds.log 2>&1 || \
	    { tail -40 $(FB)/$(n).seeds.log; exit 1; };)

corpus-seeds:
	@mkdir -p $(FB)/seeds-parse $(FB)/seeds-probe
	@[ -s $(FB)/seeds-probe/fs.mp4 ] || sh fuzz/seeds-probe.sh $(FB)/seeds-probe
	@if [ -d "$(CORPUS)" ]; then find "$(CORPUS)" -name '*.xml' -exec cp {} $(FB)/seeds-parse/ \; ; fi
	@[ -s $(FB)/seeds-probe/fs.mp4 ] || sh fuzz/seeds-probe.sh $(FB)/seeds-probe

.PHONY: run seeds corpus-seeds

.SECONDEXPANSION:
$(FB)/%: fuzz/%.c $$(SRC_$$*)
	@mkdir -p $(FB)
	$(CLANG) $(FLAGS) $(DEFS_$*) -o $@ $< $(SRC_$*) $(LIBS)

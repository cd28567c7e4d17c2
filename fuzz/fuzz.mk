# fuzz.mk: libFuzzer builds (clang-14) of every fuzz/fuzz-*.c against the library
# sources, run for FUZZ_SECONDS each, seeded from the shared corpus.
#   make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
CLANG ?= $(shell command -v clang-14 || command -v clang)
FB := build/fuzz
PKGS := expat libcurl sqlite3 libuv rdkafka
FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib -D_GNU_SOURCE \
         $(shell pkg-config --cflags $(PKGS))
LIBS := $(shell pkg-config --libs $(PKGS)) -lpthread -lm
TARGETS := $(patsubst fuzz/%.c,$(FB)/%,$(wildcard fuzz/fuzz-*.c))
# The parser and its writers: what the parse target exercises.
LIB_SRC := lib/arena.c lib/error.c lib/parse.c lib/jsonw.c lib/docjson.c

run: $(TARGETS)
	@mkdir -p $(FB)/corpus-parse $(FB)/seeds
	@find ../shared/corpus -name '*.xml' -exec cp {} $(FB)/seeds/ \;
	@for t in $(TARGETS); do \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -dict=fuzz/vast.dict \
	      -artifact_prefix=$(FB)/ $(FB)/corpus-parse $(FB)/seeds || exit 1; \
	done

$(FB)/%: fuzz/%.c $(LIB_SRC)
	@mkdir -p $(FB)
	$(CLANG) $(FLAGS) -o $@ $< $(LIB_SRC) $(LIBS)

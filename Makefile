# nnx — build the interpreter, run its tests, its main example and its benchmarks.
#
#   make          install missing build packages, build ./nnx
#   make test     ... and run every unit test (plain and under ASan+UBSan) and
#                 every end-to-end script; prints "tests: N passed, M failed"
#   make run      ... and train examples/fashion_mlp.nnx on Fashion-MNIST
#   make bench    nnx run against PyTorch (expert settings) and the sgemm bound,
#                 a few minutes; NNX_BENCH_FULL=1 adds the long parts (grid -j,
#                 inference, prune, tpe, bench-load; bench/run.sh)
#   make bench-load  loading alone (bench/load.sh): a 1M x 30 CSV table, nnx's
#                 first, gzip and cached loads against pandas with peak RSS,
#                 Fashion-MNIST against gzip -dc, one epoch on a mapped 4 GB npy
#   make fmt      rewrite examples/ and stdlib/ in nnx's canonical layout
#   make fuzz     run each libFuzzer target FUZZ_SECONDS (60) from its corpus
#                 (clang; build/fuzz/, apart from the gcc build); see docs/fuzzing.md
#   make clean
#
# Sources are found by wildcard: a new src/<part>/*.c or tests/unit/test_*.c
# needs no edit here.  The targets that need packages re-enter make after
# installing them, so pkg-config is asked only once they are present.

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -march=native -fno-math-errno -fvect-cost-model=dynamic
PKGS    := gcc libc6-dev flex bison liblua5.4-dev libcmocka-dev libopenblas-dev zlib1g-dev pkg-config
DATA_PKGS  := dataset-fashion-mnist
BENCH_PKGS := python3-torch python3-numpy libjemalloc2 time
LOAD_BENCH_PKGS := python3-numpy python3-pandas time bc
FUZZ_PKGS  := clang

WARN    := -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L
INCS     = -Iinclude -Isrc -I$(BUILD)/gen $(shell pkg-config --cflags lua5.4 openblas zlib)
LIBS     = $(shell pkg-config --libs lua5.4 openblas zlib) -lm
TESTLIBS = $(shell pkg-config --libs cmocka)
SAN     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC := $(filter-out src/cli/%,$(wildcard src/*/*.c))
CLI_SRC := $(wildcard src/cli/*.c)
TESTS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))
# The tests that also run under ThreadSanitizer (see the rules below).
TSAN       := -O1 -g -fsanitize=thread
TSAN_TESTS := test_team test_train test_net_threads
# A fuzz target tests/fuzz/fuzz_NAME.c is fuzzed by `make fuzz` and its
# corpus and past crashes are replayed by `make test`.
FUZZ    := $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_io.c,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

obj      = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))
LIB_OBJ  = $(call obj,rel,$(LIB_SRC))
SLIB_OBJ = $(call obj,san,$(LIB_SRC))
TSAN_OBJ = $(call obj,tsan,$(wildcard src/rt/*.c src/util/*.c))
ifneq ($(wildcard grammar/nnx.y),)
LIB_OBJ  += $(BUILD)/rel/gen/nnx.tab.o $(BUILD)/rel/gen/lex.yy.o
SLIB_OBJ += $(BUILD)/san/gen/nnx.tab.o $(BUILD)/san/gen/lex.yy.o
FLIB_OBJ  = $(call obj,fuzz,$(LIB_SRC)) $(BUILD)/fuzz/gen/nnx.tab.o $(BUILD)/fuzz/gen/lex.yy.o
# Only the front end includes the generated headers.
FRONT    := $(wildcard src/lang/*.c src/cli/*.c tests/unit/test_lex*.c tests/unit/test_parse*.c)
$(call obj,rel,$(FRONT)) $(call obj,san,$(FRONT)) $(call obj,fuzz,$(FRONT)): | $(BUILD)/gen/nnx.tab.h $(BUILD)/gen/lex.yy.h
endif

.SECONDARY:
.PHONY: all deps data-deps bench-deps load-bench-deps fuzz-deps build test unit-tests run bench bench-load fmt fuzz fuzz-build clean
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory build

deps:
	@sh tests/install-deps.sh $(PKGS)
data-deps:
	@sh tests/install-deps.sh $(DATA_PKGS)
bench-deps:
	@sh tests/install-deps.sh $(BENCH_PKGS)
load-bench-deps:
	@sh tests/install-deps.sh $(LOAD_BENCH_PKGS)
fuzz-deps:
	@sh tests/install-deps.sh $(FUZZ_PKGS)

build: nnx

test: deps data-deps
	@$(MAKE) --no-print-directory unit-tests
	@sh tests/run.sh $(BUILD)

unit-tests: nnx $(BUILD)/san/nnx $(TESTS:%=$(BUILD)/rel/tests/%) $(TESTS:%=$(BUILD)/san/tests/%) \
            $(FUZZ:%=$(BUILD)/san/fuzz/replay_%) $(TSAN_TESTS:%=$(BUILD)/tsan/tests/%)

run: deps data-deps
	@$(MAKE) --no-print-directory build
	./nnx run examples/fashion_mlp.nnx

bench: deps data-deps bench-deps load-bench-deps
	@$(MAKE) --no-print-directory build $(BUILD)/rel/bench/load_data
	@sh bench/run.sh
	@if [ "$${NNX_BENCH_LOAD:-$${NNX_BENCH_FULL:-0}}" != 0 ]; then sh bench/load.sh; fi

bench-load: deps data-deps load-bench-deps
	@$(MAKE) --no-print-directory $(BUILD)/rel/bench/load_data
	@sh bench/load.sh

fuzz: deps fuzz-deps data-deps
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS) $(FUZZ)

fuzz-build: $(FUZZ:%=$(BUILD)/fuzz/fuzz_%)

fmt: all
	./nnx fmt -w examples/*.nnx examples/*/*.nnx stdlib/std/*.nnx bench/bench.nnx bench/lr_find.nnx bench/staged_grid.nnx

clean:
	rm -rf $(BUILD) nnx

# --- the binary ------------------------------------------------------------

nnx: $(BUILD)/rel/nnx
	cp $< $@

$(BUILD)/rel/nnx: $(call obj,rel,$(CLI_SRC)) $(BUILD)/rel/libnnx.a
	$(CC) $(OPT) -o $@ $^ $(LIBS)

$(BUILD)/san/nnx: $(call obj,san,$(CLI_SRC)) $(BUILD)/san/libnnx.a
	$(CC) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/rel/libnnx.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/san/libnnx.a: $(SLIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# --- generated front end ---------------------------------------------------

# Grouped targets (&:): one bison or flex run makes both outputs; a plain
# two-target rule would run it once per output, and the second run would
# leave the header newer than the objects built from the first.
$(BUILD)/gen/nnx.tab.c $(BUILD)/gen/nnx.tab.h &: grammar/nnx.y
	@mkdir -p $(BUILD)/gen
	bison -Wall -Werror --defines=$(BUILD)/gen/nnx.tab.h -o $(BUILD)/gen/nnx.tab.c $<

$(BUILD)/gen/lex.yy.c $(BUILD)/gen/lex.yy.h &: grammar/nnx.l
	@mkdir -p $(BUILD)/gen
	flex --header-file=$(BUILD)/gen/lex.yy.h -o $(BUILD)/gen/lex.yy.c $<

# Flex output does not pass every warning; it is generated, not ours to fix.
GENFLAGS := -Wno-unused-function -Wno-sign-compare -Wno-unused-parameter

$(BUILD)/rel/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/gen/nnx.tab.h $(BUILD)/gen/lex.yy.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(GENFLAGS) $(OPT) $(INCS) -c -o $@ $<
$(BUILD)/san/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/gen/nnx.tab.h $(BUILD)/gen/lex.yy.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(GENFLAGS) $(SAN) $(INCS) -c -o $@ $<

# --- our objects -------------------------------------------------------------

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) -MMD -MP $(INCS) -c -o $@ $<
$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) -MMD -MP $(INCS) -c -o $@ $<

$(BUILD)/rel/tests/%: $(BUILD)/rel/tests/unit/%.o $(BUILD)/rel/libnnx.a
	$(CC) $(OPT) -o $@ $^ $(LIBS) $(TESTLIBS)
$(BUILD)/san/tests/%: $(BUILD)/san/tests/unit/%.o $(BUILD)/san/libnnx.a
	$(CC) $(SAN) -o $@ $^ $(LIBS) $(TESTLIBS)

# The runtime's threads under ThreadSanitizer, whose scheduling widens the
# windows a race needs (a background unit claimed twice showed there in
# every run and in none of the rel or san ones): the team itself, the
# trainer (the next batch gathered by the worker) and every layer kind's
# passes on 1 to 3 threads, against the runtime alone (src/rt, src/util).
$(BUILD)/tsan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(TSAN) -MMD -MP $(INCS) -c -o $@ $<
$(BUILD)/tsan/librt.a: $(TSAN_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/tsan/tests/%: $(BUILD)/tsan/tests/unit/%.o $(BUILD)/tsan/librt.a
	$(CC) $(TSAN) -o $@ $^ $(LIBS) $(TESTLIBS)

# --- fuzz targets -------------------------------------------------------------
# libFuzzer builds (clang) in $(BUILD)/fuzz; the replay drivers (gcc, ASan)
# that make test runs in $(BUILD)/san/fuzz.

$(BUILD)/fuzz/libnnx.a: $(FLIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/gen/%.o: $(BUILD)/gen/%.c $(BUILD)/gen/nnx.tab.h $(BUILD)/gen/lex.yy.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(GENFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(INCS) -c -o $@ $<
$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP $(INCS) -c -o $@ $<
$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/tests/fuzz/fuzz_%.o $(BUILD)/fuzz/tests/fuzz/fuzz_io.o $(BUILD)/fuzz/libnnx.a
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LIBS)
$(BUILD)/san/fuzz/replay_%: $(BUILD)/san/tests/fuzz/fuzz_%.o $(BUILD)/san/tests/fuzz/fuzz_io.o \
                            $(BUILD)/san/tests/fuzz/replay.o $(BUILD)/san/libnnx.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $^ $(LIBS)

# A C benchmark driver bench/NAME.c builds as $(BUILD)/rel/bench/NAME.
$(BUILD)/rel/bench/%: $(BUILD)/rel/bench/%.o $(BUILD)/rel/libnnx.a
	$(CC) $(OPT) -o $@ $^ $(LIBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

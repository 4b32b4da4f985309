# The lottery system: `make run`, `make test`. See README.md.

PACKAGES  = libzmq3-dev libczmq-dev libcmocka-dev libyaml-dev libinih-dev zlib1g-dev \
            libsodium-dev libmicrohttpd-dev pkg-config
PKGS      = libczmq libzmq inih yaml-0.1 zlib libsodium libmicrohttpd
CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror=implicit-function-declaration \
            $(SANITIZE)
LDLIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# A sanitized build (test-asan, fuzz) is this Makefile run again with its
# own BUILD and BIN, and the SANITIZE flags on every compile and link.
BUILD     = build
BIN       = bin
SANITIZE  =

LIB_SRC   = $(wildcard lib/*.c actors/*.c broker/*.c frontend/*.c) server/lot_server.c \
            $(filter-out client/lottery_%.c,$(wildcard client/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
PROGRAMS  = $(addprefix $(BIN)/lottery-,server broker frontend handler persister \
            coordinator client ping keys enroll)
TEST_SRC  = $(wildcard tests/test_*.c)
TESTS     = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_UTIL = $(BUILD)/tests/testutil.o $(BUILD)/tests/client_fake.o
# The benchmark's own programs (bench/), not product: they stay in build/.
BENCH_PROGRAMS = $(addprefix $(BUILD)/bench/lottery-,loadgen baseline hop)

.PHONY: all programs deps test-deps docs coverage run test test-stress bench bench-auth bench-metrics bench-quick bench-deps clean \
        test-asan fuzz fuzz-deps fuzz-build test-valgrind valgrind-deps analyze analyze-deps \
        docker-build docker-up docker-logs docker-down docker-test
.SECONDARY:
all: deps programs
programs: $(PROGRAMS)

# Installs Debian packages, as root or through sudo: a shell command for a
# recipe, after `||` when the test before it found one missing.
apt_install = { echo "installing $(1)"; \
    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
    $$SUDO apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(1) >/dev/null; }

# Installs the Debian packages the build needs, when any is missing.
deps:
	@pkg-config --exists $(PKGS) cmocka 2>/dev/null || $(call apt_install,$(PACKAGES))

# The layering (docs/layout.md): each folder's objects see only the
# headers of what they stand on, so including anything else fails to
# compile. lib/ stands on nothing, the actors, the front-end and the
# client on lib/, the server's mains on every actor; the benchmark's
# programs use an actor's chunk check and the client's feed; tests see
# everything. A header beside a file is always found, so
# scripts/includes.sh checks each file first, naming the rule it broke:
# in actors/ and broker/ (one actor per file) only a file's own header.
INCLUDES = -Ilib
$(BUILD)/server/%.o: INCLUDES = -Ilib -Iactors -Ibroker -Ifrontend
$(BUILD)/bench/%.o:  INCLUDES = -Ilib -Iclient
$(BUILD)/tests/%.o:  INCLUDES = -Ilib -Iactors -Ibroker -Ifrontend -Iserver -Iclient
$(BUILD)/actors/%.o $(BUILD)/broker/%.o: OWN_HEADER_ONLY = --own-header-only

$(BUILD)/%.o: %.c $(wildcard lib/*.h actors/*.h broker/*.h frontend/*.h server/*.h client/*.h tests/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	@sh scripts/includes.sh $(OWN_HEADER_ONLY) $< $(INCLUDES)
	$(CC) $(CFLAGS) $(INCLUDES) -c -o $@ $<

$(BUILD)/liblot.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BIN)/lottery-%: $(BUILD)/server/lottery_%.o $(BUILD)/liblot.a
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/lottery-client $(BIN)/lottery-ping: $(BIN)/lottery-%: $(BUILD)/client/lottery_%.o $(BUILD)/liblot.a
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/lottery-%: $(BUILD)/bench/lot_%.o $(BUILD)/liblot.a
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LDLIBS)

# The load generator's classes, each one job (bench/lot_loadgen.c says which)
$(BUILD)/bench/lottery-loadgen: $(addprefix $(BUILD)/bench/lot_,swarm.o tally.o verify.o procstat.o fail.o)

# The baseline keeps its bets file in a class of its own (bench/lot_ledger.c).
$(BUILD)/bench/lottery-baseline: $(BUILD)/bench/lot_ledger.o

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_UTIL) $(BUILD)/liblot.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs cmocka)

# docs/settings.md from the programs' --help tables (test_settings checks
# that it is current).
docs: programs
	@sh scripts/settings-doc.sh $(BIN) > docs/settings.md

# Runs the server and five agencies; see scripts/run.sh.
run: all
	@sh scripts/run.sh

# promtool (Debian's prometheus) checks what test_metrics scrapes.
test-deps:
	@command -v promtool >/dev/null || $(call apt_install,prometheus)

# test_e2e runs our client against the baseline, a server of the course's
# protocol only.
test: all test-deps $(TESTS) $(BUILD)/bench/lottery-baseline
	@LOTTERY_BENCH_DIR=$(BUILD)/bench sh scripts/test.sh $(TESTS)

# The whole suite STRESS_RUNS times (30), every other run with the cores
# kept busy; stops at the first failure. See scripts/stress.sh.
test-stress: all $(TESTS) $(BUILD)/bench/lottery-baseline
	@LOTTERY_BENCH_DIR=$(BUILD)/bench sh scripts/stress.sh $(TESTS)

# Our server, embedded and distributed, against the baseline server, on
# the real and on generated data: docs/benchmarks.md and .png. bench-quick
# runs the same harness in seconds on small data, into .run/bench-quick,
# and fails when any check fails. See scripts/bench.sh. bench also
# measures what authenticated agencies cost (bench-auth alone:
# scripts/bench-auth.sh), unless BENCH_WORKLOADS, BENCH_CONFIGS or
# BENCH_SERVER select part of it (its report then goes to .run/bench).
bench-deps:
	@command -v gnuplot >/dev/null || $(call apt_install,gnuplot-nox)
	@command -v bc >/dev/null || $(call apt_install,bc)
	@command -v curl >/dev/null || $(call apt_install,curl)

bench: all bench-deps $(BENCH_PROGRAMS)
	@sh scripts/bench.sh full $(BUILD)/bench
	@$(if $(BENCH_WORKLOADS)$(BENCH_CONFIGS)$(BENCH_SERVER),true,sh scripts/bench-auth.sh $(BENCH_ROUNDS))

bench-auth: all bench-deps
	@sh scripts/bench-auth.sh $(BENCH_ROUNDS)

# What the metrics cost: METRICS_PORT off against on (scraped every
# second), alternating, on make bench's 50 x 200,000. See
# scripts/bench-metrics.sh.
bench-metrics: all bench-deps $(BENCH_PROGRAMS)
	@sh scripts/bench-metrics.sh $(BUILD)/bench $(BENCH_ROUNDS)

bench-quick: all bench-deps $(BENCH_PROGRAMS)
	@sh scripts/bench.sh quick $(BUILD)/bench

SANITIZERS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Every test, and every program the tests start, under AddressSanitizer,
# UndefinedBehaviorSanitizer (any finding ends the program) and
# LeakSanitizer (a leak fails the program at exit), built in build/asan.
# The slow unwinder gives whole stacks through libc's allocations.
ASAN_ENV = LOTTERY_BIN_DIR=$(BUILD)/asan/bin \
           ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-asan: deps
	@$(ASAN_ENV) $(MAKE) --no-print-directory BUILD=$(BUILD)/asan BIN=$(BUILD)/asan/bin \
	    SANITIZE="$(SANITIZERS)" test

# Coverage-guided fuzzing with libFuzzer (clang): each target in
# tests/fuzz runs FUZZ_SECONDS on a corpus seeded from DATA_DIR, the
# config files and tests/fuzz/seeds; a crash fails. See scripts/fuzz.sh.
FUZZ_SECONDS ?= 60
DATA_DIR     ?= ../shared/data
FUZZ_PACKAGES = clang libclang-rt-14-dev
FUZZERS       = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

fuzz-deps: deps
	@echo 'int LLVMFuzzerTestOneInput (const char *d, unsigned long s) { return 0; }' \
	    | clang -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null \
	    || $(call apt_install,$(FUZZ_PACKAGES))

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=clang \
	    SANITIZE="$(SANITIZERS) -fsanitize=fuzzer-no-link" fuzz-build
	@sh scripts/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(DATA_DIR) $(FUZZERS)

fuzz-build: $(addprefix $(BUILD)/,$(FUZZERS)) $(BUILD)/fuzz-corpus

$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/fuzz.o $(BUILD)/liblot.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz-corpus: $(BUILD)/tests/fuzz/corpus.o $(BUILD)/liblot.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Line coverage of the product code by make test, in a build of its own
# (gcov, -O0): a line per file and the total. See scripts/coverage.sh.
coverage: deps
	@rm -rf $(BUILD)/cov && mkdir -p $(BUILD)/cov
	@-LOTTERY_BIN_DIR=$(BUILD)/cov/bin $(MAKE) --no-print-directory BUILD=$(BUILD)/cov \
	    BIN=$(BUILD)/cov/bin SANITIZE="--coverage -O0" test > $(BUILD)/cov/tests.log 2>&1
	@tail -1 $(BUILD)/cov/tests.log
	@sh scripts/coverage.sh $(BUILD)/cov

# The clang static analyzer (scan-build) over the programs and the
# benchmark's, in a build of its own: any report fails, and its HTML pages
# stay in build/analyze/report. Not the tests: cmocka's assertions return
# as far as the analyzer knows, so it reports the paths after a failed one.
analyze-deps: deps
	@command -v scan-build >/dev/null || $(call apt_install,clang clang-tools)

analyze: analyze-deps
	@rm -rf $(BUILD)/analyze
	@scan-build -o $(BUILD)/analyze/report --status-bugs \
	    $(MAKE) -s --no-print-directory BUILD=$(BUILD)/analyze BIN=$(BUILD)/analyze/bin \
	    programs $(patsubst $(BUILD)/%,$(BUILD)/analyze/%,$(BENCH_PROGRAMS))

# The real-data runs, embedded and distributed (VALGRIND_TESTS, a
# test_e2e pattern), with every server program under valgrind's memcheck:
# any error or leak fails them. See scripts/valgrind.sh.
VALGRIND_TESTS ?= test_real_data_*

valgrind-deps: deps
	@command -v valgrind >/dev/null || $(call apt_install,valgrind)

test-valgrind: all valgrind-deps $(BUILD)/tests/test_e2e
	@sh scripts/valgrind.sh $(BUILD)/valgrind $(BIN) "$(VALGRIND_TESTS)" $(BUILD)/tests/test_e2e

# The compose stack (see README.md): images, up, logs, down. The images
# include lottery-prometheus, Debian's Prometheus, which `make docker-up
# PROMETHEUS=on` adds to the stack (docs/operations.md).
DOCKER_TARGETS = broker frontend handler persister coordinator server client
STACK_FILE    ?= docker-compose-dev.yaml
STACK_AGENCIES ?= 5
STACK_HANDLERS ?= 2
STACK_FRONTENDS ?= 1
COMPOSE        = $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

docker-build:
	@mkdir -p $(BUILD)
	@for target in $(DOCKER_TARGETS); do \
	    echo "docker: building lottery-$$target"; \
	    docker build -f docker/Dockerfile --target $$target -t lottery-$$target . \
	        > $(BUILD)/docker-$$target.log 2>&1 \
	        || { cat $(BUILD)/docker-$$target.log; exit 1; }; \
	done
	@echo "docker: building lottery-prometheus"
	@docker build -f docker/prometheus.Dockerfile -t lottery-prometheus docker \
	    > $(BUILD)/docker-prometheus.log 2>&1 \
	    || { cat $(BUILD)/docker-prometheus.log; exit 1; }

docker-up: docker-build
	sh docker/generar-compose.sh $(STACK_FILE) $(STACK_AGENCIES) $(STACK_HANDLERS) $(STACK_FRONTENDS)
	$(COMPOSE) -f $(STACK_FILE) up -d

docker-logs:
	$(COMPOSE) -f $(STACK_FILE) logs -f

docker-down:
	$(COMPOSE) -f $(STACK_FILE) stop -t 10
	$(COMPOSE) -f $(STACK_FILE) down -v

docker-test:
	bash tests/test_stack.sh

clean:
	rm -rf $(BUILD) $(BIN)

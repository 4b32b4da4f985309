# The lottery system: `make run`, `make test`. See README.md.

PACKAGES  = libzmq3-dev libczmq-dev libcmocka-dev libyaml-dev libinih-dev zlib1g-dev pkg-config
PKGS      = libczmq libzmq inih yaml-0.1 zlib
CC       ?= cc
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror=implicit-function-declaration \
            -Ilib -Iactors -Ibroker -Iserver -Iclient
LDLIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
BUILD     = build

LIB_SRC   = $(wildcard lib/*.c actors/*.c broker/*.c) server/lot_server.c \
            $(filter-out client/lottery_%.c,$(wildcard client/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/%.o)
PROGRAMS  = bin/lottery-server bin/lottery-frontend bin/lottery-handler \
            bin/lottery-persister bin/lottery-coordinator bin/lottery-client \
            bin/lottery-ping bin/lottery-keys
TEST_SRC  = $(wildcard tests/test_*.c)
TESTS     = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_UTIL = $(BUILD)/tests/testutil.o

.PHONY: all programs deps run test test-stress bench clean \
        docker-build docker-up docker-logs docker-down docker-test
.SECONDARY:
all: deps programs
programs: $(PROGRAMS)

# Installs the Debian packages the build needs, when any is missing.
deps:
	@pkg-config --exists $(PKGS) cmocka 2>/dev/null || { \
	    echo "installing $(PACKAGES)"; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(PACKAGES) >/dev/null; }

$(BUILD)/%.o: %.c $(wildcard lib/*.h actors/*.h broker/*.h server/*.h client/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/liblot.a: $(LIB_OBJ)
	ar rcs $@ $^

bin/lottery-%: $(BUILD)/server/lottery_%.o $(BUILD)/liblot.a
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

bin/lottery-client bin/lottery-ping: bin/lottery-%: $(BUILD)/client/lottery_%.o $(BUILD)/liblot.a
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_UTIL) $(BUILD)/liblot.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs cmocka)

# Runs the server and five agencies; see scripts/run.sh.
run: all
	@sh scripts/run.sh

test: all $(TESTS)
	@sh scripts/test.sh $(TESTS)

# The whole suite STRESS_RUNS times (30), every other run with the cores
# kept busy; stops at the first failure. See scripts/stress.sh.
test-stress: all $(TESTS)
	@sh scripts/stress.sh $(TESTS)

bench: all
	@sh scripts/bench.sh

# The compose stack (see README.md): images, up, logs, down.
DOCKER_TARGETS = frontend handler persister coordinator server client
STACK_FILE    ?= docker-compose-dev.yaml
STACK_AGENCIES ?= 5
STACK_HANDLERS ?= 2
COMPOSE        = $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

docker-build:
	@mkdir -p $(BUILD)
	@for target in $(DOCKER_TARGETS); do \
	    echo "docker: building lottery-$$target"; \
	    docker build -f docker/Dockerfile --target $$target -t lottery-$$target . \
	        > $(BUILD)/docker-$$target.log 2>&1 \
	        || { cat $(BUILD)/docker-$$target.log; exit 1; }; \
	done

docker-up: docker-build
	sh docker/generar-compose.sh $(STACK_FILE) $(STACK_AGENCIES) $(STACK_HANDLERS)
	$(COMPOSE) -f $(STACK_FILE) up -d

docker-logs:
	$(COMPOSE) -f $(STACK_FILE) logs -f

docker-down:
	$(COMPOSE) -f $(STACK_FILE) stop -t 10
	$(COMPOSE) -f $(STACK_FILE) down -v

docker-test:
	bash tests/test_stack.sh

clean:
	rm -rf $(BUILD) bin

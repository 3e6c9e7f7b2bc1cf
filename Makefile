# ngx_http_matcher_module: build against Debian's nginx, run, test, lint.
#
#   make run     install packages, build, serve the embedded default
#   make test    unit tests (lib/), nginx tests (t/), the Debian package
#   make lint    cppcheck and clang-tidy on our sources
#   make deb     the Debian package, build/deb/libnginx-mod-http-matcher_*.deb
#   make bench   the benchmark; appends a table to bench/RESULTS.md
#   make bench-hostile  issue 8's hostile bodies: loop stall, peak RSS
#   make bench-compare  issue 9's before/after, run=loop and run=pool
#   make bench-auth     issue 12's API keys and metrics on vs off

SHELL        := /bin/bash
NGINX_SRC    ?= /usr/share/nginx/src
NGINX        ?= /usr/sbin/nginx
BUILD        := $(CURDIR)/build
NGX_BUILD    := $(BUILD)/nginx
MODULE_SO    := $(BUILD)/ngx_http_matcher_module.so
# the same module with every store read and vector search parked on the
# thread pool by default (issue 9): t/ runs against both
PARKED_BUILD := $(BUILD)/parked
PARKED_SO    := $(PARKED_BUILD)/ngx_http_matcher_module.so
NDK_SO       ?= /usr/lib/nginx/modules/ndk_http_module.so

MODULE_CFLAGS := -g -O2 -Wall -Wextra -Wno-unused-parameter -Werror \
                 -fstack-protector-strong -D_FORTIFY_SOURCE=2

LIB_SRCS     := $(wildcard lib/*.c)
LIB_HDRS     := $(wildcard lib/*.h)
MOD_SRCS     := $(wildcard module/*.c) $(wildcard module/*.h)
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
UNIT_HELPERS := tests/unit/unit.c tests/unit/unit.h tests/unit/gen_text.c \
                tests/unit/gen_text.h
UNIT_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

UNIT_CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
                -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
                -Ilib $(shell pkg-config --cflags yajl cmocka lmdb libmongoc-1.0 2>/dev/null)
UNIT_LIBS    := $(shell pkg-config --libs yajl cmocka lmdb libmongoc-1.0 \
                2>/dev/null) -lm \
                -lcurl -lpthread

export TEST_NGINX_BINARY        ?= $(NGINX)
export TEST_NGINX_LOAD_MODULES  ?= $(NDK_SO) $(MODULE_SO)

.PHONY: all deps build build-parked run test unit nginx-tests nginx-parked \
        nginx-mongodb \
        runner-selftest lint deb \
        format clean bench bench-hostile bench-compare bench-remote \
        bench-mongo bench-auth quality

all: build

deps:
	@deploy/install-deps.sh

build: $(MODULE_SO)

$(NGX_BUILD)/objs/Makefile: config
	rm -rf $(NGX_BUILD)
	mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && ./configure --with-compat --with-threads \
	    --with-cc-opt="$(MODULE_CFLAGS)" \
	    --add-dynamic-module=$(CURDIR) > $(BUILD)/configure.log \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE_SO): $(NGX_BUILD)/objs/Makefile $(LIB_SRCS) $(LIB_HDRS) $(MOD_SRCS)
	$(MAKE) -s -C $(NGX_BUILD) -f objs/Makefile modules
	@# a new inode: a running nginx keeps the file it mapped
	cp $(NGX_BUILD)/objs/ngx_http_matcher_module.so $@.tmp
	mv -f $@.tmp $@

$(PARKED_BUILD)/nginx/objs/Makefile: config
	rm -rf $(PARKED_BUILD)/nginx
	mkdir -p $(PARKED_BUILD)
	cp -r $(NGINX_SRC) $(PARKED_BUILD)/nginx
	cd $(PARKED_BUILD)/nginx && ./configure --with-compat --with-threads \
	    --with-cc-opt="$(MODULE_CFLAGS) -DNGX_HTTP_MATCHER_PARKED=1" \
	    --add-dynamic-module=$(CURDIR) > $(PARKED_BUILD)/configure.log \
	    || { tail -20 $(PARKED_BUILD)/configure.log; exit 1; }

$(PARKED_SO): $(PARKED_BUILD)/nginx/objs/Makefile $(LIB_SRCS) $(LIB_HDRS) \
              $(MOD_SRCS)
	$(MAKE) -s -C $(PARKED_BUILD)/nginx -f objs/Makefile modules
	cp $(PARKED_BUILD)/nginx/objs/ngx_http_matcher_module.so $@.tmp
	mv -f $@.tmp $@

build-parked: $(PARKED_SO)

run: deps build
	@deploy/run.sh

# the contract's suites that run a third time on the MongoDB store; the
# ingest and refresh scale tests (t/021, t/041: 10,000 and 20,000
# creators within a client's 10 s) stay on LMDB: the test server is
# Python, and an ingest asks the store for each creator's stamp
MONGO_SUITES := t/010-assignments.t t/011-assignment-flow.t \
                t/020-creators.t t/040-match-flow.t t/046-similar.t \
                t/047-csv.t

# every suite runs even when one fails; the summary lines come last
test: deps build build-parked
	@rc=0; \
	$(MAKE) -s unit > $(BUILD)/unit.log 2>&1 || rc=1; \
	tests/runner/selftest.sh > $(BUILD)/selftest.log 2>&1 || rc=1; \
	t/run.sh > $(BUILD)/nginx-tests.log 2>&1 || rc=1; \
	TEST_NGINX_LOAD_MODULES="$(NDK_SO) $(PARKED_SO)" \
	    t/run.sh --label parked > $(BUILD)/nginx-parked.log 2>&1 || rc=1; \
	TEST_MATCHER_STORE=mongodb t/run.sh --label mongodb $(MONGO_SUITES) \
	    > $(BUILD)/nginx-mongodb.log 2>&1 || rc=1; \
	tests/deb.sh > $(BUILD)/deb.log 2>&1 || rc=1; \
	for f in unit selftest nginx-tests nginx-parked nginx-mongodb deb; do \
	    if [ $$rc -ne 0 ]; then grep -v "^ok\|^\[ \|^\[=\|passed, .* failed" $(BUILD)/$$f.log | tail -40; fi; \
	done; \
	if [ $$rc -ne 0 ]; then tests/failures.sh $(BUILD)/unit.log \
	    $(BUILD)/nginx-tests.log $(BUILD)/nginx-parked.log \
	    $(BUILD)/nginx-mongodb.log $(BUILD)/deb.log; fi; \
	grep -h "passed, .* failed" $(BUILD)/unit.log $(BUILD)/selftest.log \
	    $(BUILD)/nginx-tests.log $(BUILD)/nginx-parked.log \
	    $(BUILD)/nginx-mongodb.log $(BUILD)/deb.log; \
	exit $$rc

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

# "make build/unit/test_json" names the same file as $(BUILD)/unit/...
build/unit/%: $(BUILD)/unit/% ;

$(BUILD)/unit/%: tests/unit/%.c $(UNIT_HELPERS) $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -Itests/unit $< tests/unit/unit.c \
	    tests/unit/gen_text.c $(LIB_SRCS) \
	    $(UNIT_LIBS) -o $@

runner-selftest:
	@tests/runner/selftest.sh

nginx-tests: build
	@t/run.sh

# t/ with every store read and vector search on the thread pool
nginx-parked: build-parked
	@TEST_NGINX_LOAD_MODULES="$(NDK_SO) $(PARKED_SO)" t/run.sh --label parked

# the contract's suites on the MongoDB store (t/mongo/fake_mongo.py)
nginx-mongodb: build
	@TEST_MATCHER_STORE=mongodb t/run.sh --label mongodb $(MONGO_SUITES)

lint:
	@deploy/lint.sh

# the Debian package (debian/, built by dpkg-buildpackage and dh_nginx
# from a copy of the sources in build/deb/src); "make test" checks it
# with tests/deb.sh
deb: deps
	@deploy/deb.sh

# not part of "make test": matching quality on graded briefs (bench/quality)
quality: deps build
	@bench/quality/run.sh

# not part of "make test": the MongoDB store beside LMDB (bench/mongo)
bench-mongo: deps build
	@bench/mongo/run.sh

# not part of "make test": minutes of load, numbers for bench/RESULTS.md
bench: deps build
	@bench/run.sh

# issue 9: the base commit (BASE, default 8e534c0) against the working
# tree, matching at N=100000, run=loop and run=pool side by side
bench-compare: deps build
	@bench/compare.sh

# issue 12: GET /api/creators/{id} with the API key check and the
# metrics on, beside the same without, in one run (nginx reloaded between
# rows); appends to bench/RESULTS.md (APPEND=0: not).  About 2 minutes.
bench-auth: deps build
	@bench/auth.sh

# libFuzzer targets (fuzz/): builds them with clang and runs each for
# FUZZ_SECONDS (default 600); fails on any crash, sanitizer report, leak
# or hang.  Not part of "make test".
.PHONY: fuzz
FUZZ_SECONDS ?= 600
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

# issue 8: hostile bodies against one worker, time on its event loop and
# peak RSS (N=100000 creators; TIMEOUT, MODULE_SO: see bench/hostile.py)
bench-hostile: deps build
	@bench/hostile.py

format:
	clang-format -i lib/*.c lib/*.h tests/unit/*.c

clean:
	rm -rf $(BUILD)

# issue 10: the remote configuration (OpenAI + Pinecone through
# subrequests, bulk jobs through libcurl) against the fake server of
# t/remote/, side by side with return 200: latency minus the fake's time,
# cached match rps, upstream connections, OpenAI calls, a 20,000-creator
# refresh.  Builds under /tmp/matcher-build.lock if needed; appends to
# bench/RESULTS.md (APPEND=0: not).  About 3 to 4 minutes.
bench-remote:
	@bench/remote/run.sh

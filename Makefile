# Makefile - one build for the whole mail system.
#
#   make            build lib/ once, then every program against it (build/)
#   make test       install missing packages, build, run every test
#   make asan       the same tests on an AddressSanitizer + UBSan build
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make bench      benchmarks against Debian's Postfix, as ratios
#   make run        start the mail system in the foreground (conf/)
#   make install    PREFIX=/usr/local DESTDIR= (binaries, conf/, man/,
#                   the systemd unit; see mk/install-post.sh)
#   make man        regenerate man/man5/postconf.5 from lib/global/mail_params.def
#   make clean
#
# Programs are found by their folders: a folder named after a program
# below holds that program's sources, its main in <name>.c.

PREFIX     ?= /usr/local
DESTDIR    ?=
CONFIG_DIR ?= /etc/postfix
DAEMON_DIR ?= $(PREFIX)/libexec/postfix
COMMAND_DIR ?= $(PREFIX)/sbin
MAN_DIR    ?= $(PREFIX)/share/man
BIN_DIR    ?= $(PREFIX)/bin
SYSTEMD_DIR ?= $(PREFIX)/lib/systemd/system
QUEUE_DIR  ?= /var/spool/postfix
DATA_DIR   ?= /var/lib/postfix
VERSION    := 0.1.0

CC        = gcc
BUILD    ?= build
OPT      ?= -O2 -g
SAN      ?=
WARN      = -Wall -Wextra -Werror
DEFS      = -D_GNU_SOURCE -DVERSION='"$(VERSION)"' \
	    -DDEF_CONFIG_DIR='"$(CONFIG_DIR)"' -DDEF_DAEMON_DIR='"$(DAEMON_DIR)"' \
	    -DDEF_COMMAND_DIR='"$(COMMAND_DIR)"' -DDEF_QUEUE_DIR='"$(QUEUE_DIR)"' \
	    -DDEF_DATA_DIR='"$(DATA_DIR)"' -DDEF_MANPAGE_DIR='"$(MAN_DIR)"' \
	    -DDEF_SENDMAIL_PATH='"$(COMMAND_DIR)/sendmail"' \
	    -DDEF_MAILQ_PATH='"$(BIN_DIR)/mailq"' -DDEF_NEWALIASES_PATH='"$(BIN_DIR)/newaliases"'
CFLAGS    = -std=c11 $(OPT) $(SAN) $(WARN) $(DEFS) -Ilib -I$(BUILD)/gen -MMD -MP
LDFLAGS   = $(SAN)
LDLIBS    = -ldb -llmdb -lldns -lpcre2-8 -lssl -lcrypto -lz

DAEMON_NAMES  = master smtpd qmgr smtp lmtp bounce flush verify showq tlsrpt odmr pickup postscreen \
		local pipe discard
COMMAND_NAMES = postmap postconf postqueue postsuper posttls-finger sendmail postdrop \
		postfix postcat postlog postalias
DAEMONS   := $(foreach p,$(DAEMON_NAMES),$(if $(wildcard $(p)/$(p).c),$(p)))
COMMANDS  := $(foreach p,$(COMMAND_NAMES),$(if $(wildcard $(p)/$(p).c),$(p)))

# lib/ is built as one static library per layer, lowest last on the link
# line (LIB_LAYERS is the order from the top down; a layer may use only
# the layers after it: mk/check-layers.py enforces that on the includes).
LIB_LAYERS := smtpc global tls dns dict util
LIB_SRCS  := $(foreach l,$(LIB_LAYERS),$(wildcard lib/$(l)/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBA      := $(LIB_LAYERS:%=$(BUILD)/lib/lib%.a)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

PROG_BINS := $(DAEMONS:%=$(BUILD)/libexec/%) $(COMMANDS:%=$(BUILD)/sbin/%)

# In a sanitizer build every binary links the compiled-in sanitizer
# options (lib/util/sanitizer_options.c) explicitly: the runtime only refers to
# them weakly, which would not pull them out of the archive.
SAN_OBJ   := $(if $(SAN),$(BUILD)/obj/lib/util/sanitizer_options.o)

.PHONY: all deps test asan fuzz fuzz-build bench run install clean
.DEFAULT_GOAL := all
.SECONDARY:

# Helper daemons that only tests use (tests/daemon/NAME.c).
TEST_DAEMON_SRCS := $(wildcard tests/daemon/*.c)
TEST_DAEMONS := $(TEST_DAEMON_SRCS:tests/daemon/%.c=$(BUILD)/tests/daemon/%)

all: $(PROG_BINS) $(UNIT_BINS) $(TEST_DAEMONS)

deps:
	@sh mk/deps.sh

# Generated headers: global/mail_params.h (VAR_* names of the parameter
# table). Every object waits for them; -MMD records who really uses them.
GEN_H := $(BUILD)/gen/global/mail_params.h
$(BUILD)/gen/global/mail_params.h: lib/global/mail_params.def mk/gen-params-h.sh
	@mkdir -p $(dir $@)
	sh mk/gen-params-h.sh $< > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "CC $<"; $(CC) $(CFLAGS) -c $< -o $@

# layer_rule(archive, object dir, layer)
define layer_rule
$(1): $$(patsubst %.c,$(2)/%.o,$$(wildcard lib/$(3)/*.c))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LIB_LAYERS),$(eval $(call layer_rule,$(BUILD)/lib/lib$(l).a,$(BUILD)/obj,$(l))))

# Libraries that only some programs (and unit tests) need: <name>_LDLIBS.
smtpd_LDLIBS = -lsasl2
odmr_LDLIBS  = -lsasl2
test_xsasl_LDLIBS = -lsasl2

define program_rule
$(1)_OBJS := $$(patsubst %.c,$(BUILD)/obj/%.o,$$(wildcard $(2)/*.c))
$(1): $$($(1)_OBJS) $(LIBA)
	@mkdir -p $$(dir $$@)
	$(CC) $(LDFLAGS) -o $$@ $$($(1)_OBJS) $(SAN_OBJ) $(LIBA) $(LDLIBS) $$($(2)_LDLIBS)
endef
$(foreach p,$(DAEMONS),$(eval $(call program_rule,$(BUILD)/libexec/$(p),$(p))))
$(foreach p,$(COMMANDS),$(eval $(call program_rule,$(BUILD)/sbin/$(p),$(p))))

# mailq and newaliases are sendmail under other names (sendmail -bp, -I),
# as in Postfix.
all: $(BUILD)/sbin/mailq $(BUILD)/sbin/newaliases
$(BUILD)/sbin/mailq $(BUILD)/sbin/newaliases: $(BUILD)/sbin/sendmail
	ln -sf sendmail $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(SAN_OBJ) $(LIBA) $(LDLIBS) $($*_LDLIBS)

$(BUILD)/tests/daemon/%: $(BUILD)/obj/tests/daemon/%.o $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(SAN_OBJ) $(LIBA) $(LDLIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# The built-in paths (PREFIX & co) are compiled in: when they differ from
# the last build's (make install PREFIX=/opt/x after make), rebuild.
PATHS_TEXT := $(VERSION) $(CONFIG_DIR) $(DAEMON_DIR) $(COMMAND_DIR) $(QUEUE_DIR) $(DATA_DIR)
PATHS_STAMP := $(BUILD)/paths.stamp
$(shell mkdir -p $(BUILD) && (echo '$(PATHS_TEXT)' | cmp -s - $(PATHS_STAMP) || echo '$(PATHS_TEXT)' > $(PATHS_STAMP)))
$(LIB_OBJS) $(foreach p,$(DAEMONS) $(COMMANDS),$(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard $(p)/*.c))): $(PATHS_STAMP)

# Fuzz targets: clang with libFuzzer, lib/ compiled again with coverage.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BUILD = $(BUILD)/fuzz
FUZZ_CFLAGS = -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	      $(WARN) $(DEFS) -Ilib -I$(BUILD)/gen -MMD -MP
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_SECONDS ?= 60

$(FUZZ_BUILD)/obj/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@

# Targets link lib/ as an archive, like the programs: a target pulls in
# only the modules it uses, so one unfinished module cannot break them all.
FUZZ_LIBA := $(LIB_LAYERS:%=$(FUZZ_BUILD)/lib/lib%.a)

$(foreach l,$(LIB_LAYERS),$(eval $(call layer_rule,$(FUZZ_BUILD)/lib/lib$(l).a,$(FUZZ_BUILD)/obj,$(l))))

$(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o $(FUZZ_LIBA)
	clang -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIBA) $(LDLIBS)

.PRECIOUS: $(FUZZ_BUILD)/obj/%.o
-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)

# fuzz_smtpd also links smtpd's own objects, all but its main (smtpd/smtpd.c).
FUZZ_SMTPD_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(filter-out smtpd/smtpd.c,$(wildcard smtpd/*.c)))
$(FUZZ_BUILD)/fuzz_smtpd: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_smtpd.o $(FUZZ_SMTPD_OBJS) $(FUZZ_LIBA)
	clang -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_SMTPD_OBJS) $(FUZZ_LIBA) $(LDLIBS) $(smtpd_LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: deps fuzz-build
	@for f in $(FUZZ_BINS); do \
	    name=$$(basename $$f); mkdir -p tests/fuzz/corpus/$$name; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=tests/fuzz/ \
		tests/fuzz/corpus/$$name || exit 1; \
	done

test: deps
	@$(MAKE) --no-print-directory -j2 all fuzz-build
	@/usr/bin/python3 tests/run.py --build $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory -j2 BUILD=build-asan OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -DMTA_SANITIZE" all fuzz-build
	@ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    /usr/bin/python3 tests/run.py --build build-asan

bench: deps all
	@/usr/bin/python3 bench/run.py --build $(BUILD)

run: deps all
	@sh mk/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(DAEMON_DIR) $(DESTDIR)$(COMMAND_DIR) $(DESTDIR)$(CONFIG_DIR)
	for p in $(DAEMONS); do install -m 755 $(BUILD)/libexec/$$p $(DESTDIR)$(DAEMON_DIR)/; done
	for p in $(COMMANDS); do install -m 755 $(BUILD)/sbin/$$p $(DESTDIR)$(COMMAND_DIR)/; done
	for f in conf/main.cf conf/master.cf; do [ -e $(DESTDIR)$(CONFIG_DIR)/$$(basename $$f) ] || \
	    install -m 644 $$f $(DESTDIR)$(CONFIG_DIR)/; done
	install -d $(DESTDIR)$(SYSTEMD_DIR)
	sed -e 's|@COMMAND_DIR@|$(COMMAND_DIR)|g' conf/postfix.service > $(DESTDIR)$(SYSTEMD_DIR)/postfix.service
	chmod 644 $(DESTDIR)$(SYSTEMD_DIR)/postfix.service
	for s in 1 5 8; do install -d $(DESTDIR)$(MAN_DIR)/man$$s; \
	    for f in man/man$$s/*.$$s; do [ -e "$$f" ] && install -m 644 $$f $(DESTDIR)$(MAN_DIR)/man$$s/; done; true; done
	@sh mk/install-post.sh "$(DESTDIR)" "$(COMMAND_DIR)" "$(PREFIX)" "$(BIN_DIR)"

# man/man5/postconf.5 is generated from lib/global/mail_params.def (committed;
# tests/integration/test_postconf.py fails when it is out of date).
.PHONY: man
man:
	/usr/bin/python3 mk/gen-postconf-man.py

clean:
	rm -rf build build-asan

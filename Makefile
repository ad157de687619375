# Thin wrapper: meson does the building. The two set-up commands of the
# README are `make run` and `make test`; both install what is missing first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
HOSTS      ?= $(BUILD)/hosts
GPUPASS     = $(BUILD)/src/cli/gpupass

# Debian 12 / Proxmox VE 8 package names.
BUILD_DEPS = meson ninja-build pkg-config gcc libc6-dev libpci-dev pci.ids libjson-c-dev libarchive-dev libcurl4-openssl-dev
# What the packaging, fuzzing and static-analysis checks need (each its own line).
PKG_DEPS   = debhelper dpkg-dev build-essential man-db groff-base bash-completion
FUZZ_DEPS  = clang libclang-rt-14-dev llvm
CHECK_DEPS = valgrind cppcheck clang-tidy
TEST_DEPS  = $(BUILD_DEPS) libcmocka-dev pciutils python3 tar gzip qemu-system-x86 busybox-static \
             $(PKG_DEPS) $(FUZZ_DEPS) $(CHECK_DEPS)

.PHONY: all run test build deps test-deps hosts bench clean

all: build

# Installs only what dpkg says is missing, so a ready machine needs no network.
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root (or install:$$missing)" >&2; exit 3; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(BUILD_DEPS))

test-deps:
	$(call apt_install,$(TEST_DEPS))

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_ARGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job: judge this machine, layer by layer. Exit 1/2 (warnings,
# failures) are answers about the host, not build errors.
run: build
	@$(GPUPASS) check; rc=$$?; [ $$rc -le 2 ] || exit $$rc

hosts:
	python3 tests/hosts/mkhost.py $(HOSTS) >/dev/null

# Everything, twice for the C parts: once plain, once with ASan+UBSan.
test: test-deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) -Dwerror=true
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) -Dwerror=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all
	ninja -C $(BUILD)
	ninja -C $(ASAN_BUILD)
	python3 tests/hosts/mkhost.py $(HOSTS) >/dev/null
	@tests/run.sh $(BUILD) $(ASAN_BUILD) $(HOSTS)

bench: build hosts
	python3 bench/list.py $(GPUPASS) $(HOSTS)/large-8gpu
	python3 bench/doctor.py $(GPUPASS) $(HOSTS)/pve8-intel-1gpu
	python3 bench/copy.py $(GPUPASS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# The Debian package (debian/), built with dpkg-buildpackage from a copy of
# the tree in a temporary directory, so that no build litter (debian/gpupass,
# obj-*, ../*.deb) lands here: leaves $(DEB_DIR)/gpupass_<version>_<arch>.deb.
DEB_DIR ?= $(BUILD)/deb

.PHONY: deb
deb:
	$(call apt_install,$(BUILD_DEPS) $(PKG_DEPS))
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "dpkg-buildpackage in $$tmp/gpupass"; \
	mkdir "$$tmp/gpupass"; \
	tar -C . --exclude=./.git --exclude=./build --exclude='./build-*' --exclude='./obj-*' \
	  --exclude=__pycache__ -cf - . | tar -C "$$tmp/gpupass" -xf -; \
	(cd "$$tmp/gpupass" && dpkg-buildpackage -us -uc -b) >"$$tmp/log" 2>&1 || \
	  { tail -40 "$$tmp/log" >&2; echo "dpkg-buildpackage failed" >&2; exit 2; }; \
	mkdir -p $(DEB_DIR); \
	rm -f $(DEB_DIR)/gpupass_*.deb $(DEB_DIR)/gpupass-dbgsym_*.deb; \
	cp "$$tmp"/*.deb $(DEB_DIR)/; \
	ls -1 $(DEB_DIR)/*.deb

# libFuzzer: every tests/fuzz/fuzz-*.c built with clang (ASan + UBSan, -O1 -g)
# in $(FUZZ_BUILD), then run FUZZ_SECONDS each (two at a time) on its seeds
# (tests/fuzz/seeds/<target>); what libFuzzer finds goes to
# $(FUZZ_BUILD)/corpus/<target>/, a crash to $(FUZZ_BUILD)/crashes/<target>/,
# and any crash fails the target. Needs the test dependencies (cmocka) too:
# meson configures tests/ in that build dir.
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: fuzz
fuzz:
	$(call apt_install,$(BUILD_DEPS) libcmocka-dev $(FUZZ_DEPS))
	FUZZ_BUILD=$(abspath $(FUZZ_BUILD)) FUZZ_CI_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run-libfuzzer.sh $(BUILD)

# Static analysis, clean on the tree (tests/cli/test-lint-static.sh runs it):
# cppcheck (false positives in .cppcheck-suppressions or inline, each with its
# reason), then clang-tidy with .clang-tidy on every file of src/ in
# $(BUILD)/compile_commands.json.
CPPCHECK = cppcheck --enable=warning,performance,portability --inline-suppr --error-exitcode=1 -q \
           --std=c11 -D_GNU_SOURCE -j2 -I src -I src/lib -I src/shared -I $(BUILD) \
           --suppressions-list=.cppcheck-suppressions
.PHONY: lint
lint:
	$(call apt_install,$(CHECK_DEPS))
	@[ -f $(BUILD)/compile_commands.json ] || meson setup $(BUILD) $(MESON_ARGS)
	$(CPPCHECK) src
	run-clang-tidy -p $(BUILD) -j2 -quiet '$(CURDIR)/src/|\.\./src/' >$(BUILD)/clang-tidy.log 2>&1 || \
	  { grep -E 'warning:|error:' $(BUILD)/clang-tidy.log; exit 1; }
	@echo "lint: cppcheck and clang-tidy found nothing"

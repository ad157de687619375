# Thin wrapper: meson does the building. The two set-up commands of the
# README are `make run` and `make test`; both install what is missing first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
HOSTS      ?= $(BUILD)/hosts
GPUPASS     = $(BUILD)/src/cli/gpupass

# Debian 12 / Proxmox VE 8 package names.
BUILD_DEPS = meson ninja-build pkg-config gcc libc6-dev libpci-dev pci.ids libjson-c-dev libarchive-dev libcurl4-openssl-dev
# What the packaging, fuzzing and static-analysis checks need (each its own line).
PKG_DEPS   =
FUZZ_DEPS  =
CHECK_DEPS =
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
	rm -rf $(BUILD) $(ASAN_BUILD)

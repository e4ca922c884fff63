# ganglion: `make demo` runs the seed's two-neuron network, `make test` runs every test.
# Both install the system packages they need first (Debian/Ubuntu, via apt-get).

SYSTEM_PACKAGES := libhdf5-dev mesa-vulkan-drivers libvulkan1 pkg-config fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CARGO ?= cargo

.PHONY: deps build demo test bench clean

deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(CARGO) build --release

demo: build
	./target/release/ganglion run configs/hh_pair.toml --force

# Mesa's loader prints an error per Wayland probe on headless machines without XDG_RUNTIME_DIR.
test: deps
	XDG_RUNTIME_DIR=$${XDG_RUNTIME_DIR:-/tmp} $(CARGO) test --release

bench: deps
	$(CARGO) bench

clean:
	$(CARGO) clean
	rm -rf out

# ganglion: `make demo` runs the seed's two-neuron network, `make test` runs every test.
# Both install the system packages they need first (Debian/Ubuntu, via apt-get).

SYSTEM_PACKAGES := libhdf5-dev mesa-vulkan-drivers libvulkan1 pkg-config fonts-dejavu-core python3 python3-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CARGO ?= cargo

.PHONY: deps build demo test bench figures clean

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
# HDF5 locks a file through its descriptor, which it opens without close-on-exec: a test that
# spawns ganglion while another test's file is open hands that lock to the child, and the other
# test's next open of its own file fails until the child exits. ganglion guards its outputs
# with lock files of its own, so the tests run without HDF5's.
# Then libsonata, the reference SONATA reader, reads a fresh run's output (tests/sonata).
test: deps
	HDF5_USE_FILE_LOCKING=FALSE XDG_RUNTIME_DIR=$${XDG_RUNTIME_DIR:-/tmp} $(CARGO) test --release
	XDG_RUNTIME_DIR=$${XDG_RUNTIME_DIR:-/tmp} tests/sonata/check.sh

bench: deps
	$(CARGO) bench

# The README's figures, rendered into out/figures/ from fresh CPU runs.
figures: build
	mkdir -p out/figures
	./target/release/ganglion run configs/hh_pair.toml --force --quiet
	./target/release/ganglion plot traces out/hh_pair.h5 --population hh --variables v,m,h,n --neurons 0,1 --t1 60 --out out/figures/hh_pair_traces.png
	./target/release/ganglion run configs/cobahh.toml --backend cpu --force --quiet --set simulation.duration_ms=500
	./target/release/ganglion plot raster out/cobahh.h5 --max-neurons 200 --out out/figures/cobahh_raster.png
	./target/release/ganglion run configs/lif_noisy_1k.toml --backend cpu --force --quiet
	./target/release/ganglion plot hist out/lif_noisy_1k.h5 --population lif --variable v --out out/figures/lif_noisy_hist_v.png
	./target/release/ganglion run configs/ofc_saccade.toml --force --quiet
	./target/release/ganglion plot trials out/ofc_saccade.h5 --out out/figures/ofc_saccade_trials.png
	./target/release/ganglion run configs/ofc_target_jump.toml --force --quiet
	./target/release/ganglion plot trials out/ofc_target_jump.h5 --out out/figures/ofc_target_jump_trials.png
	./target/release/ganglion run configs/equations/stdp.toml --force --quiet
	./target/release/ganglion plot weights out/equations_stdp.h5 --projection S --out out/figures/stdp_weights.png
	./target/release/ganglion run configs/hh_pair_sweep.toml --force --quiet
	./target/release/ganglion plot sweep out/hh_pair_sweep.h5 --x populations.hh.params.i_ext --y projections.hh_hh.weight --metric rate --out out/figures/hh_pair_sweep_rate.png

clean:
	$(CARGO) clean
	rm -rf out

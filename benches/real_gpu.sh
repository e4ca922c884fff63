#!/usr/bin/env bash
# The README's real-GPU figures in one go, on the machine that has the GPU, so that one start
# of a borrowed machine is enough:
#   bash benches/real_gpu.sh OUT_DIR [GANGLION]
# GANGLION is the command that runs ganglion: by default `bash .gpu/run.sh ganglion` where
# ../shared/gpu/bundle.sh filled .gpu/, else target/release/ganglion.
# GANGLION_BENCH_SIZES, GANGLION_COUPLING_SIZES, GANGLION_BLOCKED_SIZES,
# GANGLION_COBAHH_SIZES, GANGLION_DELIVERY_SIZES and GANGLION_SACCADE_SIZES replace the sizes.
# Writes OUT_DIR/log.txt (adapter, validations, tables) and the CSVs; the CPU rows are timed on
# the same host, so that the speedups compare like with like. A failing step is logged and the
# next one runs: partial results still come back.
# Afterwards, where fonts are installed:
#   ganglion plot scale OUT_DIR/hh.csv --out hh_scale.png
#   ganglion plot scale OUT_DIR/cobahh.csv --out cobahh_scale.png
set -uo pipefail
out=${1:?usage: bash benches/real_gpu.sh OUT_DIR [GANGLION]}
if [ -n "${2:-}" ]; then
  ganglion=$2
elif [ -x .gpu/run.sh ]; then
  ganglion="bash .gpu/run.sh ganglion"
else
  ganglion=target/release/ganglion
fi
mkdir -p "$out"
log="$out/log.txt"

step() {
  echo "\$ ganglion $*" | tee -a "$log"
  local started=$SECONDS
  $ganglion "$@" 2>&1 | tee -a "$log"
  echo "[exit ${PIPESTATUS[0]}, $((SECONDS - started)) s]" | tee -a "$log"
}

# One header, then every study's rows.
merge() {
  local into=$1
  shift
  head -n 1 "$1" >"$into"
  for f in "$@"; do tail -n +2 "$f" >>"$into"; done
}

# The sizes: the HH network up to 20M neurons (past 5M its matrix comes in parts of at most
# one 2 GiB binding), the CPU up to 10M; benches/scaling.rs's COBAHH sizes with 4M added;
# smaller ones for a trial run.
hh_sizes=${GANGLION_BENCH_SIZES:-1000,10000,100000,1000000,2000000,5000000,10000000,20000000}
hh_cpu_sizes=${GANGLION_BENCH_CPU_SIZES:-1000,10000,100000,1000000,2000000,5000000,10000000}
coupling_sizes=${GANGLION_COUPLING_SIZES:-10000,1000000}
cobahh_sizes=${GANGLION_COBAHH_SIZES:-4000,40000,400000,4000000}

step info
step validate configs/hh_pair.toml --duration-ms 200
step validate configs/hh_ring_1k.toml --duration-ms 200
step validate configs/cobahh.toml

# The seed's network at scale, K = 100: GPU with the default coupling (auto), then each
# coupling kernel at the two sizes with targets, then the CPU reference on the same host.
step scale configs/hh_bench.toml --population hh --sizes $hh_sizes --backends gpu \
  --steps 1000 --repeat 3 --quiet --force --out "$out/hh_gpu.csv"
for coupling in fused fused_lanes thread_per_row lanes_per_row blocked; do
  sizes=$coupling_sizes
  # The blocked kernel's S traffic grows with N²: where it stops paying.
  [ $coupling = blocked ] && sizes=${GANGLION_BLOCKED_SIZES:-100000,1000000,2000000}
  step scale configs/hh_bench.toml --population hh --sizes $sizes --backends gpu \
    --steps 1000 --repeat 3 --quiet --force --set simulation.gpu_coupling=$coupling \
    --out "$out/hh_gpu_$coupling.csv"
done
# What cutting the matrix into parts costs: the same sizes with bindings capped at 256 MiB.
step scale configs/hh_bench.toml --population hh --sizes ${GANGLION_SPLIT_SIZES:-1000000,5000000} \
  --backends gpu --steps 1000 --repeat 3 --quiet --force --set simulation.gpu_max_binding_mib=256 \
  --out "$out/hh_gpu_split.csv"
# Procedural connectivity (no indices stored, rows drawn every step): HH with K = 100 from 1M
# to 100M neurons with the default kernel, and each kernel that draws rows at 1M.
step scale configs/hh_bench.toml --population hh --sizes ${GANGLION_PROCEDURAL_SIZES:-1000000,10000000,100000000} \
  --backends gpu --steps 200 --repeat 3 --quiet --force --set projections.hh_hh.connectivity.procedural=true \
  --out "$out/hh_gpu_procedural.csv"
for coupling in fused fused_lanes thread_per_row lanes_per_row; do
  step scale configs/hh_bench.toml --population hh --sizes 1000000 --backends gpu \
    --steps 1000 --repeat 3 --quiet --force --set projections.hh_hh.connectivity.procedural=true \
    --set simulation.gpu_coupling=$coupling --out "$out/hh_gpu_procedural_$coupling.csv"
done
# What cutting a state into parts of whole variables costs: the 10M procedural row again with
# bindings of 64 MiB, its state in five parts (nothing else is cut). Past 107M neurons the
# 2 GiB binding cuts it anyway: add 200000000 to GANGLION_PROCEDURAL_SIZES to time that.
step scale configs/hh_bench.toml --population hh --sizes 10000000 --backends gpu \
  --steps 200 --repeat 3 --quiet --force --set projections.hh_hh.connectivity.procedural=true \
  --set simulation.gpu_max_binding_mib=64 --out "$out/hh_gpu_procedural_cut_state.csv"
# And within one variable: in bindings of 16 MiB every per-neuron array of the 10M row lies in
# three ranges of neurons (the state in 15 parts, S read range by range by the coupling), the
# row pointers in three parts of whole rows. Past 536M neurons the 2 GiB binding cuts it so:
# add 600000000 to GANGLION_PROCEDURAL_SIZES to time that (about 20 GiB of GPU memory).
step scale configs/hh_bench.toml --population hh --sizes 10000000 --backends gpu \
  --steps 200 --repeat 3 --quiet --force --set projections.hh_hh.connectivity.procedural=true \
  --set simulation.gpu_max_binding_mib=16 --out "$out/hh_gpu_procedural_ranges.csv"
step scale configs/hh_bench.toml --population hh --sizes $hh_cpu_sizes --backends cpu \
  --steps 50 --repeat 3 --quiet --force --out "$out/hh_cpu.csv"
merge "$out/hh.csv" "$out/hh_gpu.csv" "$out/hh_cpu.csv"

# COBAHH with 80 synapses per neuron, both populations scaled in proportion (4:1).
step scale configs/cobahh_k80.toml --sizes $cobahh_sizes --backends gpu \
  --steps 1000 --repeat 3 --quiet --force --out "$out/cobahh_gpu.csv"
step scale configs/cobahh_k80.toml --sizes $cobahh_sizes --backends cpu \
  --steps 50 --repeat 3 --quiet --force --out "$out/cobahh_cpu.csv"
merge "$out/cobahh.csv" "$out/cobahh_gpu.csv" "$out/cobahh_cpu.csv"
# Where the event-driven inputs are delivered: in the update (the default, 1.8-2.1x slower at
# 2M-4M than one set of buffers per projection) or in a dispatch of their own before it.
for delivery in in_update separate; do
  step scale configs/cobahh_k80.toml --sizes ${GANGLION_DELIVERY_SIZES:-40000,400000,2000000,4000000} \
    --backends gpu --set "simulation.gpu_event_delivery=\"$delivery\"" \
    --steps 1000 --repeat 3 --quiet --force --out "$out/cobahh_delivery_$delivery.csv"
done

# The saccade model: 1e3 to 1e6 trials of 1000 steps (the book's 1 s), GPU and CPU.
saccade_sizes=${GANGLION_SACCADE_SIZES:-1000,10000,100000,1000000}
step validate configs/ofc_saccade.toml --set populations.saccade.size=10000
step scale configs/ofc_saccade.toml --population saccade --sizes $saccade_sizes --backends gpu \
  --steps 1000 --repeat 3 --quiet --force --out "$out/saccade_gpu.csv"
step scale configs/ofc_saccade.toml --population saccade --sizes $saccade_sizes --backends cpu \
  --steps 100 --repeat 3 --quiet --force --out "$out/saccade_cpu.csv"
merge "$out/saccade.csv" "$out/saccade_gpu.csv" "$out/saccade_cpu.csv"

# Models written as equations (Brian2's language) against the built-in models they restate:
# validation on the GPU, then µs/step of each pair on both backends, and the seconds from the
# config to the first step (the `1st step s` column: equations parsed, checked, compiled to
# WGSL, pipelines built).
step validate configs/equations/hh_pair.toml
step validate configs/equations/lif_tutorial.toml
step validate configs/equations/cobahh.toml
step bench configs/cobahh.toml --steps 1000 --repeat 3
step bench configs/equations/cobahh.toml --steps 1000 --repeat 3
step bench configs/hh_bench.toml --set 'populations.hh.params.integrator="euler"' --steps 1000 --repeat 3
step bench configs/equations/hh_bench.toml --steps 1000 --repeat 3
step scale configs/equations/hh_bench.toml --population hh --sizes ${GANGLION_EQUATION_SIZES:-10000,100000,1000000} \
  --backends gpu --steps 1000 --repeat 3 --quiet --force --out "$out/hh_equations_gpu.csv"

# Plasticity: the STDP example scaled to 1000 and 100,000 post-synaptic neurons with 1000
# plastic inputs each (1e6 and 1e8 synapses), GPU and CPU.
step bench configs/equations/stdp.toml --set populations.neurons.size=1000 --steps 1000 --repeat 3
step bench configs/equations/stdp.toml --set populations.neurons.size=100000 --steps 200 --repeat 3 --backends gpu

# The peers' benchmark (Brian2GeNN's COBAHH, 1000 synapses per neuron): 1k, 32k, 128k, 1.02M
# neurons (the last with its matrices in two parts each).
for n in ${GANGLION_COBAHH1000_SIZES:-1000 32000 128000 1024000}; do
  step bench configs/cobahh_1000.toml --set populations.exc.size=$((n * 4 / 5)) --set populations.inh.size=$((n / 5)) \
    --steps 1000 --repeat 3 --backends gpu
done

# The same with Brian2GeNN's own rule, p = 1000/N, drawn procedurally with the config's
# weights, uniform in [0, 1e-9] nS drawn per synapse (no indices or weights stored).
for n in ${GANGLION_COBAHH1000_SIZES:-1000 32000 128000 1024000}; do
  rule="{ rule = \"fixed_probability\", p = $(awk "BEGIN { print 1000 / $n }"), procedural = true }"
  sets=()
  for p in ee ei ie ii; do
    sets+=(--set "projections.$p.connectivity=$rule")
  done
  step bench configs/cobahh_1000.toml --set populations.exc.size=$((n * 4 / 5)) --set populations.inh.size=$((n / 5)) \
    "${sets[@]}" --steps 1000 --repeat 3 --backends gpu
done
# What cutting states, g and the delay rings into parts costs: the 1.02M procedural network
# again in bindings of 7 MiB (the excitatory state in 3 parts, g in 2, the rings in 4, the
# row pointers in 2), against the row above.
rule="{ rule = \"fixed_probability\", p = $(awk "BEGIN { print 1000 / 1024000 }"), procedural = true }"
sets=()
for p in ee ei ie ii; do
  sets+=(--set "projections.$p.connectivity=$rule")
done
step bench configs/cobahh_1000.toml --set populations.exc.size=819200 --set populations.inh.size=204800 \
  "${sets[@]}" --set simulation.gpu_max_binding_mib=7 --steps 1000 --repeat 3 --backends gpu
# And within one variable and one projection: in bindings of 2 MiB the excitatory arrays lie in
# two ranges of neurons, the g and rings of the projections onto them in ranges of targets.
step bench configs/cobahh_1000.toml --set populations.exc.size=819200 --set populations.inh.size=204800 \
  "${sets[@]}" --set simulation.gpu_max_binding_mib=2 --steps 1000 --repeat 3 --backends gpu

# Sweeps: instance-steps/s of the seed pair at 1 … 100,000 instances, GPU and CPU, next to
# 100 separate runs.
bash benches/sweep.sh "$out/sweep" "$ganglion" "cpu gpu" 2>&1 | tee -a "$log"

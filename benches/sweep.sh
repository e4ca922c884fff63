#!/usr/bin/env bash
# The sweep figures of the README: the seed pair (10 ms, 1000 steps per instance) as sweeps of
# 1, 100, 10,000 and 100,000 instances differing in their seed, on the backends named (at
# 10,000 also stacked (output.sweep_layout), with spikes alone and with nothing recorded), next to 100 separate
# `ganglion run`s of single points.
#   bash benches/sweep.sh OUT_DIR [GANGLION] [BACKENDS]
# BACKENDS: "cpu gpu" by default; GANGLION_SWEEP_SIZES replaces the sizes. Prints one line per
# run: backend, instances, wall seconds, instance-steps per second.
set -uo pipefail
out=${1:?usage: bash benches/sweep.sh OUT_DIR [GANGLION] [BACKENDS]}
ganglion=${2:-target/release/ganglion}
backends=${3:-cpu gpu}
mkdir -p "$out"
steps=1000
for n in ${GANGLION_SWEEP_SIZES:-1 100 10000 100000}; do
  # A list this long does not fit one command-line argument: the sweep goes in a config.
  config="$out/hh_pair_sweep_$n.toml"
  {
    sed '/^\[output\]/,$d' configs/hh_pair.toml
    echo '[sweep]'
    echo 'mode = "zip"'
    printf '"simulation.seed" = ['
    seq -s, 1 "$n" | tr -d '\n'
    echo ']'
  } >"$config"
  # The pair's five traces as configured; at 10,000 instances also stacked, its spikes alone
  # and nothing recorded, which show what writing the instances' groups costs.
  records=("")
  [ "$n" = 10000 ] && records+=("stacked" "spikes alone" "nothing recorded")
  for b in $backends; do
    for what in "${records[@]}"; do
      sets=()
      case "$what" in
        "stacked") sets=(--set output.sweep_layout=stacked) ;;
        "spikes alone") sets=(--set 'record.traces=[]') ;;
        "nothing recorded") sets=(--set 'record.traces=[]' --set 'record.spikes=[]') ;;
      esac
      started=$(date +%s.%N)
      if $ganglion run "$config" --backend "$b" --set simulation.duration_ms=10 "${sets[@]}" --quiet --force \
        --output "$out/sweep_${b}_$n.h5" >>"$out/sweep_log.txt" 2>&1; then
        wall=$(awk "BEGIN { print $(date +%s.%N) - $started }")
        printf '%s sweep of %d%s: %.2f s, %.3e instance-steps/s\n' "$b" "$n" "${what:+ ($what)}" "$wall" "$(awk "BEGIN { print $n * $steps / $wall }")"
      else
        echo "$b sweep of $n${what:+ ($what)}: failed (see $out/sweep_log.txt)"
      fi
      rm -f "$out/sweep_${b}_$n.h5"
    done
  done
done
for b in $backends; do
  started=$(date +%s.%N)
  for seed in $(seq 1 100); do
    $ganglion run configs/hh_pair.toml --backend "$b" --set simulation.duration_ms=10 --set simulation.seed=$seed \
      --quiet --force --output "$out/one.h5" >>"$out/sweep_log.txt" 2>&1
  done
  wall=$(awk "BEGIN { print $(date +%s.%N) - $started }")
  printf '%s, 100 separate runs: %.2f s (%.3f s each)\n' "$b" "$wall" "$(awk "BEGIN { print $wall / 100 }")"
done
rm -f "$out/one.h5"

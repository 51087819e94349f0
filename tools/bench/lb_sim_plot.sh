#!/usr/bin/env bash
# Runs lb_sim and plots the degraded endpoint's share of traffic per second at 70%
# utilisation (needs gnuplot: apt-get install gnuplot-nox). Writes tools/bench/lb_sim.png and prints
# the table.
#   tools/bench/lb_sim_plot.sh [BUILD_DIR]
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
series=$(mktemp)
trap 'rm -f "$series"' EXIT
"$build/tools/bench/lb_sim" --series "$series"
gnuplot <<PLOT
set terminal pngcairo size 900,420 noenhanced
set output "$root/tools/bench/lb_sim.png"
set title "Endpoint 0 becomes 4x slower at 60 s: its share of traffic (1,000 sidecars, 30 endpoints, 70%)"
set xlabel "second"
set ylabel "share of all requests"
set key top left
set yrange [0:0.08]
plot "$series" using 1:2 with lines lw 2 title "round robin", \
     "$series" using 1:3 with lines lw 2 title "random", \
     "$series" using 1:4 with lines lw 2 title "local least-request", \
     "$series" using 1:5 with lines lw 2 title "global-lb"
PLOT
echo "plot: $root/tools/bench/lb_sim.png"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Balancers side by side: tandem-lb, HAProxy, nginx and Apache mod_proxy_balancer, each on its
# own port in front of the same two tandemd nodes, sticky by the JSESSIONID route. wrk rounds run
# interleaved (A B C D A B C D ...) with Cookie: JSESSIONID=x.OX-1 on GET /health; for each run
# the balancer's CPU time (all its processes) per request, p50, p99 and req/s; then the memory
# each one needs per idle keep-alive client connection, medians and ratios vs HAProxy and Apache.
# tandem-lb is skipped with a message while it does not proxy yet.
# Usage: bench/lb.sh [ROUNDS=5] [DURATION=5s] [CONNECTIONS=50] [IDLE_CONNECTIONS=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build bench >/dev/null
scripts/build.sh release >/dev/null
exec /usr/bin/python3 bench/lb.py "${1:-5}" "${2:-5s}" "${3:-50}" "${4:-1000}"

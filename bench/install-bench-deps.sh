#!/usr/bin/env bash
# Installs the Debian packages that bench/run.sh needs, on top of scripts/install-deps.sh
# (which it runs first: the build and the test users need those).
# Idempotent: when everything is already installed it changes nothing and needs no network.
# Runs as root on Debian 12 with no standard input.
#
# Required: iperf3, wrk, nginx-light, python3, util-linux (unshare), procps, gcc (through
# scripts/install-deps.sh' g++; bench.py compiles bench/netbench.c with cc).
# Optional contenders: passt (pasta), slirp4netns.
# A package that cannot be installed from the optional list is reported and skipped;
# run.sh then leaves that contender out and says so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

required=(iperf3 wrk nginx-light python3 util-linux procps)
optional=(passt slirp4netns)

say() { echo "install-bench-deps.sh: $*"; }

if [[ $(id -u) -ne 0 ]]; then
    echo "install-bench-deps.sh: must run as root (it calls apt-get install)" >&2
    exit 1
fi

bash scripts/install-deps.sh

is_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

missing=()
for pkg in "${required[@]}" "${optional[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    say "all $(( ${#required[@]} + ${#optional[@]} )) packages already installed"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# nginx's maintainer scripts would start the system nginx on port 80; the benchmark
# starts its own. Where the machine has no policy-rc.d, use a temporary one that
# forbids starting services, and remove it afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# temporary, from bench/install-bench-deps.sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    own_policy=true
    trap '$own_policy && rm -f "$policy"' EXIT
fi

say "installing: ${missing[*]}"
apt_install() { apt-get install -y --no-install-recommends "$@" </dev/null; }
if ! apt_install "${missing[@]}"; then
    apt-get update </dev/null
    if ! apt_install "${missing[@]}"; then
        # Try the required ones alone, then each optional one on its own.
        req_missing=()
        for pkg in "${required[@]}"; do is_installed "$pkg" || req_missing+=("$pkg"); done
        if [[ ${#req_missing[@]} -gt 0 ]]; then apt_install "${req_missing[@]}"; fi
        for pkg in "${optional[@]}"; do
            is_installed "$pkg" || apt_install "$pkg" || say "optional package $pkg could not be installed; skipping it"
        done
    fi
fi
say "done"

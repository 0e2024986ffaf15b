#!/usr/bin/env bash
# Installs every Debian package that building portwrap and running its tests need.
# Idempotent: when everything is already installed it changes nothing and needs no network.
# Runs as root on Debian 12 with no standard input (CI=true is fine).
set -euo pipefail

packages=(
    # build
    meson ninja-build pkg-config g++ libslirp-dev libglib2.0-dev catch2
    # every seccomp filter is built with libseccomp (its static archive for the static build)
    libseccomp-dev
    # run time: newuidmap/newgidmap for users with /etc/subuid entries
    uidmap
    # tests and demo
    python3 curl socat iproute2 procps util-linux mount passwd coreutils
    # the static build and its test (tests/static): an empty root with bwrap and busybox
    bubblewrap busybox-static file
    # the static build: static archives, nm for the NSS check, apt-get source for libslirp
    libpcre2-dev binutils dpkg-dev
    # tests/static/test-directory-user.sh: an NSS source other than /etc/passwd
    libnss-extrausers
    # scripts/fuzz.sh: clang with libFuzzer and the sanitizer runtimes; llvm-symbolizer for the reports
    clang libclang-rt-14-dev llvm
    # tests/integration/test-elevated-copy.sh: setcap, for a copy of portwrap with a file capability
    libcap2-bin
    # tests/integration/test-dns.sh: a resolver on a loopback address
    dnsmasq-base
    # the man page: scdoc turns docs/portwrap.1.scd into roff at build time; man -l checks it
    scdoc man-db
    # tests/integration/test-jupyter.sh: a real Jupyter server, a kernel, its websocket
    jupyter-server python3-jupyter-server python3-ipykernel python3-websocket
    # tests/slurm: a one-node Slurm cluster on this machine (tests/slurm/slurm-cluster.sh)
    slurmctld slurmd slurm-client munge
    # tests/integration/test-jupyterhub.sh: JupyterHub 3.0, its proxy, the classic notebook app
    jupyterhub node-configurable-http-proxy python3-notebook
    # tests/install: the bash, zsh and fish completions; systemd-analyze for the unit example
    bash-completion zsh fish systemd
    # scripts/coverage.sh: the line coverage table of src/
    gcovr
)

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps.sh: must run as root (it calls apt-get install)" >&2
    exit 1
fi

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps.sh: all ${#packages[@]} packages already installed"
    exit 0
fi

echo "install-deps.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# One 'apt-get update', and only when the package lists are missing or older than 6 hours.
updated=false
lists=(/var/lib/apt/lists/*_Packages*)
if [[ ! -e ${lists[0]} ]] || [[ -n $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin +360 -print -quit) ]]; then
    apt-get update </dev/null
    updated=true
fi
if ! apt-get install -y --no-install-recommends "${missing[@]}" </dev/null; then
    # Fresh-looking lists can still name versions the archive no longer has.
    $updated && exit 1
    apt-get update </dev/null
    apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fi
echo "install-deps.sh: done"

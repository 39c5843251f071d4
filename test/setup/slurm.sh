#!/usr/bin/env bash
# A real single-node Slurm for the compute tests (test/compute/slurm-*.test.ts start and stop their own
# slurmctld, slurmd and munged with a generated slurm.conf; nothing runs as a service).
set -euo pipefail
if command -v sbatch >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
  && command -v munged >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null

#!/usr/bin/env bash
# Builds every sample guest (see DEVELOPERS.md): the MIPS samples, the MIPS kernel sample and the
# x86 samples, each by its own build.sh. The built ELFs are committed; rebuilding must reproduce
# them byte for byte.
set -euo pipefail
cd "$(dirname "$0")"
mips/build.sh
if [ -x mips/kernel/build.sh ] || [ -f mips/kernel/build.sh ]; then bash mips/kernel/build.sh; fi
if [ -f x86/build.sh ]; then bash x86/build.sh; fi
if [ -f mips/pv-kernel/build.sh ]; then bash mips/pv-kernel/build.sh; fi
if [ -f x86/pv-kernel/build.sh ]; then bash x86/pv-kernel/build.sh; fi
if [ -f mips/pv-events/build.sh ]; then bash mips/pv-events/build.sh; fi

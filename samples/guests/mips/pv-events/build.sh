#!/usr/bin/env bash
# Builds pv-events.elf (events.c, start.S; README.md): a MIPS PV domain that checks event
# channel upcall delivery. Reproducible like ../pv-kernel/build.sh; the committed ELF must be
# byte-identical to a rebuild.
set -euo pipefail
cd "$(dirname "$0")"
CC="${MIPS_CC:-mipsel-linux-gnu-gcc}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "mips/pv-events/build.sh: $CC not found (Debian: apt-get install gcc-mipsel-linux-gnu)" >&2
  exit 1
fi
GUESTS="$(cd ../.. && pwd)"
"$CC" -march=mips32 -EL -mno-abicalls -fno-pic -ffreestanding -nostdlib -static -no-pie -msoft-float -O2 \
  -G0 -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fno-ident \
  -Wall -Wextra -Werror "-ffile-prefix-map=$GUESTS=." -I../../include \
  -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
  -Wl,-T,events.ld -o pv-events.elf start.S events.c
echo "built samples/guests/mips/pv-events/pv-events.elf"

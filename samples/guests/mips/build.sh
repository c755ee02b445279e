#!/usr/bin/env bash
# Builds the MIPS sample guests (hello.elf, compute.elf, harness.elf) next to their sources.
# Reproducible: relative paths, -ffile-prefix-map, no build-id, no timestamps; the committed
# ELFs must be byte-identical to a rebuild (test/differential/mips/build.test.ts checks it).
set -euo pipefail
cd "$(dirname "$0")"
CC="${MIPS_CC:-mipsel-linux-gnu-gcc}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "mips/build.sh: $CC not found (Debian: apt-get install gcc-mipsel-linux-gnu)" >&2
  exit 1
fi
GUESTS="$(cd .. && pwd)"
# Flags of DEVELOPERS.md. -G0: no $gp-relative small data; -fno-tree-loop-distribute-patterns:
# GCC must not turn memset/memcpy's own loops into calls to themselves.
CFLAGS=(-march=mips32 -EL -mno-abicalls -fno-pic -ffreestanding -nostdlib -static -no-pie -msoft-float -O2
  -G0 -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fno-ident
  -Wall -Wextra -Werror "-ffile-prefix-map=$GUESTS=.")
LDFLAGS=(-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,-T,guest.ld -Wl,--no-warn-rwx-segments)

link() { # out.elf [extra flags and] sources...
  local out="$1"
  shift
  "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$out" start.S arch.c ../common/print.c "$@"
  echo "built samples/guests/mips/$out"
}

link hello.elf ../common/hello.c
link compute.elf ../common/compute.c
link harness.elf harness/harness.S harness/harness.c
link entry-state.elf -Wl,-e,capture_entry entry-state/capture.S entry-state/entry-state.c
link uart-echo.elf uart-echo/vectors.S uart-echo/uart-echo.c

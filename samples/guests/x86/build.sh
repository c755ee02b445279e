#!/usr/bin/env bash
# Builds the x86 sample guests (hello.elf, compute.elf, mbinfo.elf, hello-aout.elf (multiboot
# a.out kludge), kernel/kernel.elf, harness
# ELFs) next to their sources, with the clang/lld flags of DEVELOPERS.md. Reproducible:
# relative paths through -ffile-prefix-map, no build-id, no timestamps; the committed ELFs must
# be byte-identical to a rebuild (test/differential/x86/build.test.ts checks it).
set -euo pipefail
cd "$(dirname "$0")"
CC="${X86_CC:-clang}"
if ! command -v "$CC" >/dev/null 2>&1 || ! command -v ld.lld >/dev/null 2>&1; then
  echo "x86/build.sh: $CC or ld.lld not found (Debian: apt-get install clang lld)" >&2
  exit 1
fi
GUESTS="$(cd .. && pwd)"
CFLAGS=(--target=i686-unknown-none-elf -march=i386 -ffreestanding -nostdlib -static -fuse-ld=lld
  -msoft-float -mno-sse -mno-mmx -O2 -fno-pic -fno-asynchronous-unwind-tables -fno-unwind-tables
  -fno-ident -Wall -Wextra -Werror "-ffile-prefix-map=$GUESTS=.")
LDFLAGS=(-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,-T,guest.ld)

link() { # out.elf sources...
  local out="$1"
  shift
  "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$out" start.S arch.c ../common/print.c "$@"
  echo "built samples/guests/x86/$out"
}

link hello.elf ../common/hello.c
link compute.elf ../common/compute.c
link mbinfo.elf mbinfo.c
link hello-aout.elf ../common/hello.c -DAOUT_KLUDGE
if [ -f kernel/build.sh ]; then
  bash kernel/build.sh
fi
if [ -f harness/harness.S ]; then
  link harness.elf harness/harness.S harness/harness.c
fi
if [ -f devices/build.sh ]; then . devices/build.sh; fi

#!/usr/bin/env bash
# Builds the x86 PV guests (README.md): test/pv-test.elf, the step-by-step test guest of the
# monitor's x86 PV mode. Same clang/lld flags as ../build.sh plus the generated
# ../../include/pvkit_hypercall.h; reproducible (relative paths, -ffile-prefix-map, no build-id):
# the committed ELFs must be byte-identical to a rebuild (test/full-virt/x86-pv checks it).
set -euo pipefail
cd "$(dirname "$0")"
CC="${X86_CC:-clang}"
if ! command -v "$CC" >/dev/null 2>&1 || ! command -v ld.lld >/dev/null 2>&1; then
  echo "x86/pv-kernel/build.sh: $CC or ld.lld not found (Debian: apt-get install clang lld)" >&2
  exit 1
fi
GUESTS="$(cd ../.. && pwd)"
CFLAGS=(--target=i686-unknown-none-elf -march=i386 -ffreestanding -nostdlib -static -fuse-ld=lld
  -msoft-float -mno-sse -mno-mmx -O2 -fno-pic -fno-asynchronous-unwind-tables -fno-unwind-tables
  -fno-ident -Wall -Wextra -Werror "-ffile-prefix-map=$GUESTS=." -I../../include)
LDFLAGS=(-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack)

"$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -Wl,-T,test/pv-test.ld -o test/pv-test.elf test/entry.S test/pv-test.c
echo "built samples/guests/x86/pv-kernel/test/pv-test.elf"

#!/usr/bin/env bash
# Builds the x86 PV guests (README.md): pv-kernel.elf, the x86 kernel sample's C sources built
# against the PV HAL (include/hal.h, pv.c; the kernel sample's user programs, unchanged), and
# test/pv-test.elf, the step-by-step test guest of the monitor's x86 PV mode. Same clang/lld flags as ../build.sh plus the generated
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

OBJCOPY="${X86_OBJCOPY:-llvm-objcopy}"
K=../kernel
B=build
rm -rf "$B"
mkdir -p "$B"
user() { # name sources... (the kernel sample's user programs and flags, ../kernel/build.sh)
  local name="$1"
  shift
  "$CC" "${CFLAGS[@]}" -I.. "${LDFLAGS[@]}" -Wl,-T,"$K/user/user.ld" -o "$B/user-$name.elf" \
    "$K/user/crt0.S" "$K/user/arch.c" ../../common/print.c "$@"
  "$OBJCOPY" -O binary "$B/user-$name.elf" "$B/user-$name.bin"
}
COMPUTE_SIZE=(-DCRC_ROUNDS=4 -DSHA_ROUNDS=4 -DSORT_ROUNDS=2 -DMAT_ROUNDS=4)
user compute "$K/user/compute-main.c" ../../common/compute.c -DCOMPUTE_NO_MAIN "${COMPUTE_SIZE[@]}"
user bench "$K/user/kbench.c"
# ../kernel/user-images.S embeds build/user-*.bin: relative to this directory, i.e. $B above.
# The native kernel's sources (../kernel/build.sh KSRC) against the PV HAL: include/ first, so its
# hal.h and hal-asm.h shadow ../kernel/include's (kernel.h includes <hal.h>).
KSRC=("$K/main.c" "$K/trap.c" "$K/proc.c" "$K/vm.c" "$K/console.c" "$K/lib/mem.c" "$K/trap-entry.S"
  "$K/user-images.S")
"$CC" "${CFLAGS[@]}" -Iinclude -I"$K/include" "${LDFLAGS[@]}" -Wl,-T,kernel.ld -o pv-kernel.elf \
  entry.S pv.c "${KSRC[@]}"
echo "built samples/guests/x86/pv-kernel/pv-kernel.elf"

"$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -Wl,-T,test/pv-test.ld -o test/pv-test.elf test/entry.S test/pv-test.c
echo "built samples/guests/x86/pv-kernel/test/pv-test.elf"

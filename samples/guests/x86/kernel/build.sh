#!/usr/bin/env bash
# Builds the x86 kernel sample (kernel.elf): two flat user programs linked at 0x40000000 and
# embedded into the kernel. Same clang/lld flags as ../build.sh; reproducible (relative paths,
# -ffile-prefix-map, no build-id); the committed ELF must match a rebuild byte for byte.
set -euo pipefail
cd "$(dirname "$0")"
CC="${X86_CC:-clang}"
OBJCOPY="${X86_OBJCOPY:-llvm-objcopy}"
GUESTS="$(cd ../.. && pwd)"
CFLAGS=(--target=i686-unknown-none-elf -march=i386 -ffreestanding -nostdlib -static -fuse-ld=lld
  -msoft-float -mno-sse -mno-mmx -O2 -fno-pic -fno-asynchronous-unwind-tables -fno-unwind-tables
  -fno-ident -Wall -Wextra -Werror "-ffile-prefix-map=$GUESTS=." -I..)
# The kernel's sources: also the PV kernel's (../pv-kernel/build.sh, with its own include/ first).
KSRC=(main.c trap.c proc.c vm.c console.c lib/mem.c trap-entry.S user-images.S)
LDFLAGS=(-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack)
B=build
rm -rf "$B"
mkdir -p "$B"

user() { # name sources...
  local name="$1"
  shift
  "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -Wl,-T,user/user.ld -o "$B/user-$name.elf" \
    user/crt0.S user/arch.c ../../common/print.c "$@"
  "$OBJCOPY" -O binary "$B/user-$name.elf" "$B/user-$name.bin"
}
# The compute process runs common/compute.c at about 1/6 of its standalone size (~45 M
# instructions) so the kernel runs in seconds on pvkit; the checksums differ from compute.elf.
COMPUTE_SIZE=(-DCRC_ROUNDS=4 -DSHA_ROUNDS=4 -DSORT_ROUNDS=2 -DMAT_ROUNDS=4)
user compute user/compute-main.c ../../common/compute.c -DCOMPUTE_NO_MAIN "${COMPUTE_SIZE[@]}"
user bench user/kbench.c

"$CC" "${CFLAGS[@]}" -Iinclude "${LDFLAGS[@]}" -Wl,-T,kernel.ld -o kernel.elf entry.S hal.c "${KSRC[@]}"
echo "built samples/guests/x86/kernel/kernel.elf"

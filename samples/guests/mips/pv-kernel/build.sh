#!/usr/bin/env bash
# Builds the MIPS PV kernel (README.md): the kernel sample's user programs, embedded into the
# kernel sample's C sources (../kernel/{main,trap,proc,vm,console}.c) compiled against the PV
# HAL (include/hal.h, pv.h, pv.c) with the PV vectors.S and start.S: pv-kernel.elf, linked in
# ksseg (0xC0000000) from physical 0x10000. Reproducible like ../kernel/build.sh (relative
# paths, -ffile-prefix-map, no build-id); the committed ELF must be byte-identical to a rebuild.
set -euo pipefail
cd "$(dirname "$0")"
CC="${MIPS_CC:-mipsel-linux-gnu-gcc}"
OBJCOPY="${MIPS_OBJCOPY:-mipsel-linux-gnu-objcopy}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "mips/pv-kernel/build.sh: $CC not found (Debian: apt-get install gcc-mipsel-linux-gnu)" >&2
  exit 1
fi
GUESTS="$(cd ../.. && pwd)"
K=../kernel
CFLAGS=(-march=mips32 -EL -mno-abicalls -fno-pic -ffreestanding -nostdlib -static -no-pie -msoft-float -O2
  -G0 -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fno-ident
  -Wall -Wextra -Werror "-ffile-prefix-map=$GUESTS=.")
LDFLAGS=(-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments)
B=build
rm -rf "$B"
mkdir -p "$B"

# User programs: the kernel sample's, unchanged (same flags, same include path).
user() { # name sources...
  local name="$1"
  shift
  "$CC" "${CFLAGS[@]}" -I"$K/include" "${LDFLAGS[@]}" -Wl,-T,"$K/user/user.ld" -o "$B/user-$name.elf" \
    "$K/user/crt0.S" "$K/user/arch.c" ../../common/print.c "$@"
  "$OBJCOPY" -O binary "$B/user-$name.elf" "$B/user-$name.bin"
}
user compute "$K/user/compute-main.c" ../../common/compute.c -DCOMPUTE_NO_MAIN
user bench "$K/user/kbench.c"

# include/ first: its hal.h shadows the native kernel's (kernel.h includes <hal.h>).
KSRC=(vectors.S start.S "$K/main.c" "$K/trap.c" "$K/proc.c" "$K/vm.c" "$K/console.c" pv.c
  "$K/lib/fmt.c" "$K/lib/mem.c" "$K/user-images.S")
sed -e "s/KVA_BASE/0xC0000000/g" kernel.ld.in >"$B/pv-kernel.ld"
"$CC" "${CFLAGS[@]}" -Iinclude -I"$K/include" -I../../include "${LDFLAGS[@]}" -DKVA_BASE=0xC0000000 \
  -Wa,-I,"$B" -Wl,-T,"$B/pv-kernel.ld" -o pv-kernel.elf "${KSRC[@]}"
echo "built samples/guests/mips/pv-kernel/pv-kernel.elf"

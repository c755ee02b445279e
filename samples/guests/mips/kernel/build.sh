#!/usr/bin/env bash
# Builds the MIPS kernel sample (README.md): two user programs (flat images linked at
# 0x00400000) embedded into two kernel builds from the same sources:
#   kernel.elf        kernel linked in kseg0 (0x80000000)
#   kernel-ksseg.elf  kernel relinked in ksseg (0xC0000000) + kseg0 boot stub (Disco-style)
# Reproducible: relative paths, -ffile-prefix-map, no build-id, no timestamps; the committed
# ELFs must be byte-identical to a rebuild (test/differential/mips-kernel checks it).
set -euo pipefail
cd "$(dirname "$0")"
CC="${MIPS_CC:-mipsel-linux-gnu-gcc}"
OBJCOPY="${MIPS_OBJCOPY:-mipsel-linux-gnu-objcopy}"
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "mips/kernel/build.sh: $CC not found (Debian: apt-get install gcc-mipsel-linux-gnu)" >&2
  exit 1
fi
GUESTS="$(cd ../.. && pwd)"
# The flags of DEVELOPERS.md (as samples/guests/mips/build.sh). -G0: no $gp-relative data;
# -fno-tree-loop-distribute-patterns: memset/memcpy must not become calls to themselves.
CFLAGS=(-march=mips32 -EL -mno-abicalls -fno-pic -ffreestanding -nostdlib -static -no-pie -msoft-float -O2
  -G0 -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fno-ident
  -Wall -Wextra -Werror "-ffile-prefix-map=$GUESTS=." -Iinclude)
LDFLAGS=(-Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments)
B=build
rm -rf "$B"
mkdir -p "$B"

# User programs: same flat layout, built once and embedded in both kernels.
user() { # name sources...
  local name="$1"
  shift
  "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -Wl,-T,user/user.ld -o "$B/user-$name.elf" \
    user/crt0.S user/arch.c ../../common/print.c "$@"
  "$OBJCOPY" -O binary "$B/user-$name.elf" "$B/user-$name.bin"
}
user compute user/compute-main.c ../../common/compute.c -DCOMPUTE_NO_MAIN
user bench user/kbench.c

KSRC=(vectors.S start.S main.c trap.c proc.c vm.c console.c lib/fmt.c lib/mem.c user-images.S)

kernel() { # out.elf KVA_BASE entry boot-section extra-sources...
  local out="$1" base="$2" entry="$3" boot="$4"
  shift 4
  sed -e "s/KVA_BASE/$base/g" -e "s/ENTRY_SYMBOL/$entry/" -e "s/BOOT_SECTION/$boot/" kernel.ld.in >"$B/$out.ld"
  "$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -DKVA_BASE="$base" -Wa,-I,"$B" -Wl,-T,"$B/$out.ld" \
    -o "$out" "${KSRC[@]}" "$@"
  echo "built samples/guests/mips/kernel/$out"
}
kernel kernel.elf 0x80000000 _start ""
kernel kernel-ksseg.elf 0xC0000000 _boot_stub ".boot 0x801F0000 : { KEEP(*(.boot)) }" boot-stub.S

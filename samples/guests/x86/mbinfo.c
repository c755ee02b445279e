/*
 * Prints what the boot loader handed over: EAX, the multiboot info structure (Multiboot 0.6.96,
 * section 3.3 "Boot information format") with its memory map, and the segment selectors, CR0,
 * GDTR/IDTR and the boot GDT at entry. Under QEMU and pvkit it must print the same (test/differential/x86).
 */
#include "../common/guest.h"

extern uint32_t multiboot_magic, multiboot_info;

static void field(const char *name, uint32_t v) {
  put_str(name);
  put_str(" ");
  put_hex32(v);
  put_str("\n");
}

static uint16_t sel(int which) {
  uint16_t s = 0;
  switch (which) {
    case 0: __asm__ volatile("mov %%cs, %0" : "=r"(s)); break;
    case 1: __asm__ volatile("mov %%ds, %0" : "=r"(s)); break;
    case 2: __asm__ volatile("mov %%ss, %0" : "=r"(s)); break;
    case 3: __asm__ volatile("mov %%es, %0" : "=r"(s)); break;
    case 4: __asm__ volatile("mov %%fs, %0" : "=r"(s)); break;
    default: __asm__ volatile("mov %%gs, %0" : "=r"(s)); break;
  }
  return s;
}

int main(void) {
  const uint32_t *mbi = (const uint32_t *)multiboot_info;
  uint32_t cr0;
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  field("eax", multiboot_magic);
  field("ebx", multiboot_info);
  field("cr0", cr0);
  field("cs", sel(0));
  field("ds", sel(1));
  field("ss", sel(2));
  field("es", sel(3));
  field("fs", sel(4));
  field("gs", sel(5));
  struct {
    uint16_t limit;
    uint32_t base;
  } __attribute__((packed)) gdtr, idtr;
  __asm__ volatile("sgdt %0" : "=m"(gdtr));
  __asm__ volatile("sidt %0" : "=m"(idtr));
  field("gdtr_base", gdtr.base);
  field("gdtr_limit", gdtr.limit);
  field("idtr_base", idtr.base);
  field("idtr_limit", idtr.limit);
  /* The descriptors the boot loader's CS and DS selectors refer to. */
  const uint32_t *gdt = (const uint32_t *)gdtr.base;
  for (uint32_t i = 0; i < 5 && 8 * i + 7 <= gdtr.limit; i++) {
    put_str("gdt ");
    put_dec(i);
    put_str(" ");
    put_hex32(gdt[2 * i + 1]);
    put_hex32(gdt[2 * i]);
    put_str("\n");
  }
  uint32_t flags = mbi[0];
  field("flags", flags);
  if (flags & 1) {
    field("mem_lower", mbi[1]);
    field("mem_upper", mbi[2]);
  }
  if (flags & 2) field("boot_device", mbi[3]);
  if (flags & 4) {
    field("cmdline_addr", mbi[4]);
    put_str("cmdline \"");
    put_str((const char *)mbi[4]);
    put_str("\"\n");
  }
  if (flags & 8) {
    field("mods_count", mbi[5]);
    field("mods_addr", mbi[6]);
  }
  if (flags & 64) {
    uint32_t len = mbi[11], addr = mbi[12];
    field("mmap_length", len);
    field("mmap_addr", addr);
    for (uint32_t off = 0; off < len;) {
      const uint32_t *e = (const uint32_t *)(addr + off);
      put_str("mmap size ");
      put_hex32(e[0]);
      put_str(" base ");
      put_hex32(e[2]);
      put_hex32(e[1]);
      put_str(" length ");
      put_hex32(e[4]);
      put_hex32(e[3]);
      put_str(" type ");
      put_dec(e[5]);
      put_str("\n");
      off += e[0] + 4;
    }
  }
  if (flags & 512) {
    field("boot_loader_name_addr", mbi[16]);
    put_str("boot_loader_name \"");
    put_str((const char *)mbi[16]);
    put_str("\"\n");
  }
  put_str("DONE\n");
  return 0;
}

/* Prints what capture.S recorded at the ELF entry (see DEVELOPERS.md, "Registers at entry"). */
#include "../../common/guest.h"

extern uint32_t entry_regs[38];

static void item(const char *name, uint32_t v) {
  put_str(name);
  put_str("=");
  put_hex32(v);
  put_str(" ");
}

int main(void) {
  put_str("gpr:");
  for (int i = 0; i < 32; i++) {
    put_char(' ');
    put_hex32(entry_regs[i]);
  }
  put_str("\n");
  item("hi", entry_regs[32]);
  item("lo", entry_regs[33]);
  item("status", entry_regs[34]);
  item("cause", entry_regs[35]);
  item("wired", entry_regs[36]);
  item("pc", entry_regs[37] - 48 * 4);
  put_str("\nDONE\n");
  return 0;
}

/* C side of the x86 differential harness (see harness.S): output format parsed by the test. */
#include "../../common/guest.h"

/* Memory operands of the generated code point into this buffer (the test reads its address
   from the ELF symbol table). */
uint8_t scratch[256] __attribute__((aligned(16)));

void harness_code(void);
void dump_state(const uint32_t *s);

static uint32_t fnv(const uint8_t *p, uint32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

/* One line per sequence: "R eax ecx edx ebx ebp esi edi eflags M hash w0 .. w15". */
void dump_state(const uint32_t *s) {
  static const int order[7] = {7, 6, 5, 4, 2, 1, 0}; /* EAX ECX EDX EBX EBP ESI EDI in pushal order */
  put_str("R");
  for (int i = 0; i < 7; i++) {
    put_char(' ');
    put_hex32(s[order[i]]);
  }
  put_char(' ');
  put_hex32(s[8]);
  put_str(" M ");
  put_hex32(fnv(scratch, sizeof scratch));
  const uint32_t *w = (const uint32_t *)scratch;
  for (int i = 0; i < 16; i++) {
    put_char(' ');
    put_hex32(w[i]);
  }
  put_char('\n');
}

int main(void) {
  uint32_t x = 12345;
  for (uint32_t i = 0; i < sizeof scratch; i++) {
    x = x * 1664525u + 1013904223u;
    scratch[i] = (uint8_t)(x >> 24);
  }
  put_str("harness\n");
  harness_code();
  put_str("DONE\n");
  return 0;
}

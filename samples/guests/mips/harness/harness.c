/*
 * Prints every case block of the differential harness (see harness.S) as hex words:
 *   block + 0    scratch memory, 256 bytes (64 words) — the random loads/stores target it
 *   block + 256  exception record: count, Cause.ExcCode << 2, EPC, BadVAddr (4 words)
 *   block + 272  registers $0..$31, HI, LO (34 words)
 * One line per case: "case N: w0 w1 ... w101". Then the end marker.
 */
#include "../../common/guest.h"

#define BLOCK_WORDS (256 / 4 + 4 + 34)

extern uint32_t test_case_count;
extern uint32_t test_block_size;
extern uint8_t test_blocks[];
void run_tests(void);

int main(void) {
  run_tests();
  for (uint32_t c = 0; c < test_case_count; c++) {
    const uint32_t *w = (const uint32_t *)(test_blocks + c * test_block_size);
    put_str("case ");
    put_dec(c);
    put_str(":");
    for (int i = 0; i < BLOCK_WORDS; i++) {
      put_char(' ');
      put_hex32(w[i]);
    }
    put_str("\n");
  }
  put_str("DONE\n");
  return 0;
}

/* The smallest pvkit guest: one line through the UART, the end marker, exit status 0. */
#include "guest.h"

int main(void) {
  put_str("Hello from a pvkit guest (");
  put_str(arch_name);
  put_str(")\n");
  put_str("DONE\n");
  return 0;
}

/* User process 1 of the kernel sample: the shared CPU-bound workload (common/compute.c). */
#include "../../../common/guest.h"
#include "usys.h"

int compute_run(void);

int main(void) {
  put_str("compute: running as pid ");
  put_dec((uint32_t)sys_getpid());
  put_str("\n");
  return compute_run();
}

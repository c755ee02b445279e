/* User process 1 of the x86 kernel sample: the compute workload (common/compute.c). */
#include "../../../common/guest.h"

int compute_run(void);
int main(void);

int main(void) { return compute_run(); }

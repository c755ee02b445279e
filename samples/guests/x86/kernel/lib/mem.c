/* memset and memcpy for the freestanding kernel: the compiler may emit calls to them. */
#include "kernel.h"

void *memset(void *dst, int c, size_t n) { return kmemset(dst, c, n); }
void *memcpy(void *dst, const void *src, size_t n) { return kmemcpy(dst, src, n); }

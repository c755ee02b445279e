/* Kernel helpers: number formatting (fmt.c) and memset/memcpy (mem.c). */
#ifndef FMT_H
#define FMT_H
unsigned fmt_u32(char *buf, unsigned v);
unsigned fmt_hex(char *buf, unsigned v);
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
#endif

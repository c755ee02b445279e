/*
 * pvkit sample guests: what the arch-neutral C sources (hello.c, compute.c) may use.
 *
 * Each architecture supplies a tiny layer (samples/guests/<arch>/arch.c + start.S): a console
 * byte writer and an exit. Everything else here is plain C with no library, no floating point
 * and no 64-bit division, so it builds with -ffreestanding -nostdlib for MIPS32 and i386 alike.
 */
#ifndef PVKIT_GUEST_H
#define PVKIT_GUEST_H

#include <stddef.h>
#include <stdint.h>

/* ---- per-architecture layer ---- */

/* Short name of the architecture ("mips", "x86"). */
extern const char arch_name[];
/* Writes one byte to the console (the 16550 UART at port 0x3F8 on both boards). */
void arch_putc(int c);
/* Stops the machine with `code` (pvkit exit port 0x501); never returns. */
void arch_exit(int code) __attribute__((noreturn));

/* ---- common helpers (print.c) ---- */

void put_char(int c);
void put_str(const char *s);
/* Eight lowercase hex digits, no prefix. */
void put_hex32(uint32_t v);
/* Unsigned decimal. */
void put_dec(uint32_t v);

/* The compiler may emit calls to these even with -ffreestanding (GCC manual, "C Dialect"). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif

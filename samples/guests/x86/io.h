/* Port I/O for the x86 sample guests (Intel SDM vol. 2, IN/OUT). */
#ifndef PVKIT_X86_IO_H
#define PVKIT_X86_IO_H
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

#endif

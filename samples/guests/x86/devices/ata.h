/*
 * ATA task-file access for the device test guests: the primary IDE channel at 0x1F0-0x1F7 and
 * its control block at 0x3F6 (register layout of ATA/ATAPI-6, T13/1410D, section 7). 16-bit
 * port I/O for the data register (Intel SDM vol. 2, IN/OUT).
 */
#ifndef PVKIT_X86_ATA_H
#define PVKIT_X86_ATA_H
#include <stdint.h>

#include "../io.h"

static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint16_t inw(uint16_t port) {
  uint16_t v;
  __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

#define ATA_DATA 0x1F0
#define ATA_ERROR 0x1F1
#define ATA_FEATURES 0x1F1
#define ATA_NSECT 0x1F2
#define ATA_LBAL 0x1F3
#define ATA_LBAM 0x1F4
#define ATA_LBAH 0x1F5
#define ATA_DEVICE 0x1F6
#define ATA_STATUS 0x1F7
#define ATA_COMMAND 0x1F7
#define ATA_ALTSTATUS 0x3F6
#define ATA_DEVCTL 0x3F6

#define ST_ERR 0x01
#define ST_DRQ 0x08
#define ST_DRDY 0x40
#define ST_BSY 0x80
#define CTL_NIEN 0x02
#define CTL_SRST 0x04

#endif

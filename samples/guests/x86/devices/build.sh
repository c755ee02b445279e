# Sourced by samples/guests/x86/build.sh (uses its link()): the device test guests.
link devices/ide-test.elf devices/ide-test.c
link devices/ne2000-test.elf devices/ne2000-test.c
link devices/ide-dma-test.elf devices/ide-dma-test.c
link devices/irq-test.elf devices/irq-test.c

/*
 * Differential-test harness for the i386 CPU (test/differential/x86/random.test.ts).
 *
 * harness_code is a patch area: the test overwrites it (in a copy of this ELF) with generated
 * instruction sequences, each of which loads registers and EFLAGS, runs its instructions and
 * calls harness_dump; the area ends with RET back to main. Unpatched, it is a lone RET.
 * harness_dump saves EFLAGS and the general registers, clears DF for the C code, prints them
 * (dump_state in harness.c) and restores everything, so the next sequence starts clean.
 */
#define HARNESS_CODE_SIZE 0x8000

        .section .text.harness_code, "ax"
        .p2align 12
        .globl  harness_code
harness_code:
        ret
        .fill   HARNESS_CODE_SIZE - 1, 1, 0xcc
        .globl  harness_code_end
harness_code_end:

        .text
        .globl  harness_dump
harness_dump:
        pushfl
        pushal
        cld
        pushl   %esp                    /* -> EDI ESI EBP ESP EBX EDX ECX EAX EFLAGS */
        call    dump_state
        addl    $4, %esp
        popal
        popfl
        ret

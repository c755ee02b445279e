/*
 * Entry of entry-state.elf: records the CPU state QEMU's mipssim -kernel (or pvkit's board)
 * leaves at the ELF entry, before anything changes it, then continues at the usual _start.
 * The first store goes to physical 0x7000 through kuseg, which is unmapped only while
 * Status.ERL = 1 — so it also checks that the entry state has ERL set.
 */
        .file   "capture.S"  /* a fixed name, not the temporary object's: reproducible builds */
        .set    noreorder
        .set    noat
        .text
        .globl  capture_entry
        .ent    capture_entry
capture_entry:
        sw      $1, 0x7000($0)
        lui     $1, %hi(entry_regs)
        addiu   $1, $1, %lo(entry_regs)
        sw      $0, 0($1)
        sw      $2, 8($1)
        sw      $3, 12($1)
        sw      $4, 16($1)
        sw      $5, 20($1)
        sw      $6, 24($1)
        sw      $7, 28($1)
        sw      $8, 32($1)
        sw      $9, 36($1)
        sw      $10, 40($1)
        sw      $11, 44($1)
        sw      $12, 48($1)
        sw      $13, 52($1)
        sw      $14, 56($1)
        sw      $15, 60($1)
        sw      $16, 64($1)
        sw      $17, 68($1)
        sw      $18, 72($1)
        sw      $19, 76($1)
        sw      $20, 80($1)
        sw      $21, 84($1)
        sw      $22, 88($1)
        sw      $23, 92($1)
        sw      $24, 96($1)
        sw      $25, 100($1)
        sw      $26, 104($1)
        sw      $27, 108($1)
        sw      $28, 112($1)
        sw      $29, 116($1)
        sw      $30, 120($1)
        sw      $31, 124($1)
        lw      $2, 0x7000($0)
        sw      $2, 4($1)
        mfhi    $2
        sw      $2, 128($1)
        mflo    $2
        sw      $2, 132($1)
        mfc0    $2, $12                 /* Status */
        sw      $2, 136($1)
        mfc0    $2, $13                 /* Cause */
        sw      $2, 140($1)
        mfc0    $2, $6                  /* Wired */
        sw      $2, 144($1)
        bal     1f                      /* PC of the entry, through the link register */
        nop
1:      sw      $31, 148($1)
        j       _start
        nop
        .end    capture_entry

        .data
        .balign 4
        .globl  entry_regs
entry_regs:
        .space  152

/**
 * Every x86 sample prints the same and exits with the same value under
 * `qemu-system-i386 -M pc -kernel` and on pvkit's PC board.
 */
import { describe, expect, it } from "vitest";
import { requires } from "../../setup/requires.js";
import { hasQemuI386, runPvkitPc, runQemuI386 } from "./qemu.js";

const X86 = "samples/guests/x86";

describe.skipIf(!hasQemuI386)(requires("x86 samples: QEMU vs pvkit", hasQemuI386, "qemu-system-i386"), () => {
  it("hello.elf", async () => {
    const q = await runQemuI386(`${X86}/hello.elf`);
    expect(q.output).toBe("Hello from a pvkit guest (x86)\nDONE\n");
    expect(q.exit).toBe(0);
    const p = runPvkitPc(`${X86}/hello.elf`);
    expect(p.output).toBe(q.output);
    expect(p.exit).toBe(q.exit);
  });

  it("hello-aout.elf: the multiboot a.out kludge (header flag 16) places the image", async () => {
    const q = await runQemuI386(`${X86}/hello-aout.elf`);
    expect(q.output).toBe("Hello from a pvkit guest (x86)\nDONE\n");
    const p = runPvkitPc(`${X86}/hello-aout.elf`);
    expect(p.board.kernel?.elf).toBeNull(); // loaded through the header's addresses, not as ELF
    expect(p.output).toBe(q.output);
    expect(p.exit).toBe(q.exit);
  });

  it("mbinfo.elf: the multiboot info, memory map, selectors and CR0 the kernel finds", async () => {
    const q = await runQemuI386(`${X86}/mbinfo.elf`, { append: "console=ttyS0 x=1" });
    expect(q.output).toContain(`cmdline "${X86}/mbinfo.elf console=ttyS0 x=1"`);
    expect(q.output).toContain("mmap size 00000014 base 0000000000100000 length 0000000007ee0000 type 1");
    const p = runPvkitPc(`${X86}/mbinfo.elf`, { append: "console=ttyS0 x=1" });
    expect(p.output).toBe(q.output);
    expect(p.exit).toBe(q.exit);
  });

  it("kernel/kernel.elf: rings, paging, PIC/PIT preemption, syscalls, page faults", async () => {
    const q = await runQemuI386(`${X86}/kernel/kernel.elf`, { timeoutMs: 60_000 });
    expect(q.output).toContain("kernel: timer preempted the compute process: yes");
    expect(q.output).toContain("kernel: pid 2 killed: page fault at 0x40000340 error 0x00000007");
    expect(q.exit).toBe(0);
    const p = runPvkitPc(`${X86}/kernel/kernel.elf`, { maxInstructions: 200_000_000 });
    if (p.output !== q.output) console.error(p.board.diagnostic());
    expect(p.output).toBe(q.output);
    expect(p.exit).toBe(q.exit);
  }, 120_000);
});

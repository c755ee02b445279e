/**
 * `npm run bench`: runs every benchmark and prints one JSON object per line.
 * Usage: node --import tsx bench/run.ts [--no-qemu]
 */
import { benchBlk } from "./blk.js";
import { benchDisco } from "./disco.js";
import { benchMipsCpu } from "./mips-cpu.js";
import { benchNet } from "./net.js";
import { benchRing } from "./ring.js";
import { benchX86Cpu } from "./x86-cpu.js";
import { benchX86Full } from "./x86-full.js";

const qemu = !process.argv.includes("--no-qemu");
console.log(JSON.stringify(await benchMipsCpu({ qemu })));
console.log(JSON.stringify(await benchX86Cpu({ qemu })));
console.log(JSON.stringify(await benchRing()));
console.log(JSON.stringify(await benchBlk()));
console.log(JSON.stringify(await benchNet()));
console.log(JSON.stringify(await benchDisco()));
console.log(JSON.stringify(await benchX86Full()));

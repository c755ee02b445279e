/**
 * Published figures shown beside the report as context (REFERENCE.md "Measured anchors"). They
 * are never used to tune the cost table or anything else.
 */
export interface ReferenceFigure {
  readonly source: string;
  readonly what: string;
  readonly figure: string;
  /** The workload of this report it is context for, if any. */
  readonly workload?: string;
}

export const REFERENCE_FIGURES: readonly ReferenceFigure[] = [
  { source: "Disco (SOSP'97)", what: "Pmake, overhead vs IRIX = 100", figure: "116" },
  { source: "Disco (SOSP'97)", what: "Engineering / Raytrace / Database", figure: "106 / 103 / 116" },
  {
    source: "Disco (SOSP'97)",
    what: "8 VMs sharing the disk: virtual → machine memory",
    figure: "77 MB → 38 MB",
  },
  {
    source: "Xen (SOSP'03)",
    what: "SPEC INT2000 relative to native (Linux/Xen/VMware/UML)",
    figure: "≈ 1.00",
    workload: "compute",
  },
  { source: "Xen (SOSP'03)", what: "Linux build relative to native on Xen", figure: "1.03" },
  {
    source: "Xen (SOSP'03)",
    what: "lmbench null call, Linux / Xen",
    figure: "0.45 / 0.46 µs",
    workload: "syscall",
  },
  {
    source: "Xen (SOSP'03)",
    what: "lmbench page fault, Linux / Xen",
    figure: "1.42 / 2.73 µs",
    workload: "page-fault",
  },
  {
    source: "Xen (SOSP'03)",
    what: "lmbench context switch, Linux / Xen",
    figure: "0.77 / 1.97 µs",
    workload: "context-switch",
  },
  {
    source: "Adams & Agesen (ASPLOS'06)",
    what: "syscall-like call/ret, cycles native / software VMM / hardware VMM",
    figure: "11 / 51 / 11",
    workload: "syscall",
  },
  {
    source: "Adams & Agesen (ASPLOS'06)",
    what: "page fault, cycles native / software VMM / hardware VMM",
    figure: "1093 / 3927 / 11242",
    workload: "page-fault",
  },
  {
    source: "Adams & Agesen (ASPLOS'06)",
    what: "`in`, cycles native / software / hardware VMM",
    figure: "3209 / ~210 / 15826",
  },
  {
    source: "Adams & Agesen (ASPLOS'06)",
    what: "PTE modification, software vs hardware VMM",
    figure: "391 vs 12733",
  },
];

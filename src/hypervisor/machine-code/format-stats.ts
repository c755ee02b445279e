/** The `--stats` block both monitors print: one section per domain, then machine totals. */
export interface MonitorRunStats {
  readonly domains: readonly {
    readonly name: string;
    readonly state: string;
    readonly guestCycles: number;
    readonly monitorCycles: number;
    readonly stats: { format(title: string): string };
  }[];
  readonly cycles: number;
  readonly wallMs: number;
}

export function formatMonitorStats(title: string, res: MonitorRunStats): string {
  const parts = [`pvkit stats (${title})`];
  for (const d of res.domains) {
    parts.push(
      d.stats.format(
        `domain ${d.name} (${d.state}): guest ${d.guestCycles} cycles, monitor ${d.monitorCycles} cycles`,
      ),
    );
  }
  parts.push(`  machine: ${res.cycles} cycles, wall time ${(res.wallMs / 1000).toFixed(3)} s`);
  return `${parts.join("\n")}\n`;
}

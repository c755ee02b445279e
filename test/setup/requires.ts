/**
 * Titles for suites that need a host tool: the reason is in the title only when the suite is
 * actually skipped, so a run's report never says "skipped" beside tests that ran.
 */
export function requires(title: string, present: boolean, tool: string): string {
  return present ? title : `${title} (skipped: ${tool} not installed)`;
}

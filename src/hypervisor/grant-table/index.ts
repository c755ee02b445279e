/** Grant tables v1: the hypervisor side of GNTTABOP and the entry layout. */
export {
  GRANT_ENTRIES_PER_FRAME,
  GRANT_ENTRY_DOMID,
  GRANT_ENTRY_FLAGS,
  GRANT_ENTRY_FRAME,
  GRANT_ENTRY_SIZE,
  type GrantEntryV1,
  grantEntryAddress,
  readGrantEntry,
} from "./grant-entry.js";
export {
  DEFAULT_GRANT_LIMITS,
  GntCopy,
  type GrantDumpRow,
  type GrantLimits,
  GrantTables,
  type GrantTraceEvent,
} from "./grant-table.js";

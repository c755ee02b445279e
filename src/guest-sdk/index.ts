/** pvkit/guest-sdk — see DESIGN.md. */
export {};

/** pvkit/compare — see DESIGN.md. */
export {};

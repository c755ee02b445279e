/** pvkit/pv-drivers — see DESIGN.md. */
export {};

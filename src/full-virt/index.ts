/** pvkit/full-virt — see DESIGN.md. */
export {};

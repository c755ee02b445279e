/** pvkit/hypercalls — see DESIGN.md. */
export {};

/** pvkit/hypervisor — see DESIGN.md. */
export {};

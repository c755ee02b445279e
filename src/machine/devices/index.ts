/** Devices shared by both boards; each registers its own ports on a PortBus. */
export { EXIT_PORT, EXIT_PORT_COUNT, ExitPort } from "./exit-port.js";
export * from "./uart-16550.js";

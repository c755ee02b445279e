/** Devices shared by both boards; each registers its own ports on a PortBus. */

export * from "./ata-disk.js";
export { EXIT_PORT, EXIT_PORT_COUNT, ExitPort } from "./exit-port.js";
export * from "./ide.js";
export * from "./ne2000.js";
export * from "./pci.js";
export * from "./uart-16550.js";

// The security folder's entry module: dropping privileges once the probe is attached.

export { dropPrivilegesAfterAttach } from "./drop.ts";

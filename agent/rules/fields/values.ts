// Field values as the rule engine handles them, and how Falco's parameter types map onto them.

/** How values of a field are compared. */
export type ValueKind = "string" | "number" | "bool" | "ipaddr" | "ipnet" | "bytes";

/** One extracted value; lists are arrays of scalars. bigint carries exact 64-bit times. */
export type ScalarValue = string | number | bigint | boolean | Uint8Array;
export type FieldValue = ScalarValue | readonly ScalarValue[];

export function valueKindOf(falcoType: string): ValueKind {
  switch (falcoType) {
    case "CHARBUF":
    case "FSPATH":
    case "FSRELPATH":
    case "SOCKADDR":
    case "SOCKTUPLE":
    case "SOCKFAMILY":
    case "DYN":
    case "FDLIST":
    case "CHARBUFARRAY":
    case "CHARBUF_PAIR_ARRAY":
      return "string";
    case "BOOL":
      return "bool";
    case "IPADDR":
    case "IPV4ADDR":
    case "IPV6ADDR":
      return "ipaddr";
    case "IPNET":
    case "IPV4NET":
    case "IPV6NET":
      return "ipnet";
    case "BYTEBUF":
      return "bytes";
    default:
      return "number";
  }
}

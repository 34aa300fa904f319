// Build outputs of scripts/build-native, imported with { type: "file" }: the value is a path
// (on disk under `bun run`, inside the executable's virtual fs after `bun build --compile`).
declare module "*.so" {
  const path: string;
  export default path;
}
declare module "*.so.1" {
  const path: string;
  export default path;
}
declare module "*.bpf.o" {
  const path: string;
  export default path;
}

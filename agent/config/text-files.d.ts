// YAML files imported with { type: "text" }: the value is the file's text (embedded by bun build).
declare module "*.yaml" {
  const text: string;
  export default text;
}

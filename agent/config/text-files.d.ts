// YAML files imported with { type: "text" }: the value is the file's text (embedded by bun build).
declare module "*.yaml" {
  const text: string;
  export default text;
}

// TAB-separated tables imported with { type: "text" } (agent/rules/fields/fields.tsv).
declare module "*.tsv" {
  const text: string;
  export default text;
}

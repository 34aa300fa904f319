// The yaml folder's entry module: source files and positions for error messages, and reading a
// YAML file from disk within the size bound.

export { readYamlFile, YamlFileError } from "./read-file.ts";
export {
  escapeForTerminal,
  escapeLines,
  positionAt,
  type SourceFile,
  type SourcePosition,
  snippetAt,
  sourceFile,
} from "./source.ts";

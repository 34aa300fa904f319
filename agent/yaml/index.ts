// The yaml folder's entry module: source files and positions for error messages, and reading a
// YAML file from disk within the size bound.

export {
  coreScalarValue,
  isNullScalar,
  mappingGet,
  parseYamlDocuments,
  parseYamlText,
  scalarOffset,
  type YamlMapping,
  type YamlNode,
  type YamlScalar,
  YamlSyntaxError,
} from "./positioned.ts";
export { readYamlFile, YamlFileError } from "./read-file.ts";
export {
  clipMessage,
  escapeForTerminal,
  escapeLines,
  MAX_MESSAGE_LENGTH,
  positionAt,
  type SourceFile,
  type SourcePosition,
  snippetAt,
  sourceFile,
} from "./source.ts";

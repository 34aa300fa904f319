// A text file held in memory with its line starts, so any byte offset can be turned into the
// line and column a person sees in an editor, and into a short snippet for an error message.

export interface SourceFile {
  /** The name shown to the user: a path, or a label such as "<embedded default rules>". */
  readonly name: string;
  readonly text: string;
  readonly lineStarts: readonly number[];
}

export interface SourcePosition {
  /** 1-based line and column. */
  line: number;
  column: number;
  offset: number;
}

export function sourceFile(name: string, text: string): SourceFile {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  }
  return { name, text, lineStarts };
}

export function positionAt(file: SourceFile, offset: number): SourcePosition {
  const clamped = Math.max(0, Math.min(offset, file.text.length));
  let lo = 0;
  let hi = file.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (file.lineStarts[mid] <= clamped) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: clamped - file.lineStarts[lo] + 1, offset: clamped };
}

/** How much of a line a snippet shows before and after the error column. */
export const SNIPPET_BEFORE = 60;
export const SNIPPET_AFTER = 100;

/**
 * The line holding `offset` with a caret under the column, prefixed by the line number. A long line
 * is shown around the column only ("..." marks what is cut), and control bytes are escaped.
 */
export function snippetAt(file: SourceFile, offset: number): string {
  const pos = positionAt(file, offset);
  const start = file.lineStarts[pos.line - 1];
  const nextStart = file.lineStarts[pos.line] ?? file.text.length + 1;
  const lineEnd = Math.max(start, nextStart - 1 - (file.text[nextStart - 2] === "\r" ? 1 : 0));
  const column = Math.min(pos.column - 1, lineEnd - start);
  const from = Math.max(start, start + column - SNIPPET_BEFORE);
  const to = Math.min(lineEnd, start + column + SNIPPET_AFTER);
  const head = from > start ? "..." : "";
  const tail = to < lineEnd ? "..." : "";
  const before = escapeForTerminal(file.text.slice(from, start + column));
  const rest = escapeForTerminal(file.text.slice(start + column, to));
  const gutter = `${pos.line} | `;
  const caretPad = " ".repeat(gutter.length + head.length + before.length);
  return `${gutter}${head}${before}${rest}${tail}\n${caretPad}^`;
}

/** Longest message shown; past it a message is cut and says how much was left out. */
export const MAX_MESSAGE_LENGTH = 1000;

/** A message that may quote a huge value from a file (a 10 MB key), cut to MAX_MESSAGE_LENGTH. */
export function clipMessage(message: string): string {
  if (message.length <= MAX_MESSAGE_LENGTH) return message;
  return `${message.slice(0, MAX_MESSAGE_LENGTH)}... (${message.length - MAX_MESSAGE_LENGTH} more characters)`;
}

/** Multi-line text from files made safe to print: each line escaped, the line breaks kept. */
export function escapeLines(text: string): string {
  return text.split("\n").map(escapeForTerminal).join("\n");
}

/** C0 controls but tab, DEL and C1 controls (ESC sequences start there), bidi overrides. */
function unsafeCode(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x09) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * Text from a file made safe to print: control, escape and bidirectional-override characters
 * (which make text display in another order than it reads) written as escapes.
 */
export function escapeForTerminal(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unsafeCode(code)) continue;
    out += text.slice(from, i);
    from = i + 1;
    if (code === 0x0a) out += "\\n";
    else if (code === 0x0d) out += "\\r";
    else if (code < 0x100) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += `\\u${code.toString(16)}`;
  }
  return from === 0 ? text : out + text.slice(from);
}

// Textual path normalisation, as Falco does for fd.name: join a relative path to its base
// directory, drop "." and empty components, and let ".." remove the previous component. No
// symlink is followed, so the result says what the program asked for.

export function joinAndNormalize(base: string, path: string): string {
  // Most paths programs open are already absolute and clean: no work, no allocation.
  if (isCleanAbsolute(path)) return path;
  const full = path.startsWith("/") ? path : `${base}/${path}`;
  const out: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i <= 0) return "/";
  return path.slice(0, i);
}

export function basename(path: string): string {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/** Absolute, no empty, "." or ".." component, no trailing slash (except "/" itself). One pass. */
function isCleanAbsolute(path: string): boolean {
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== SLASH) return false;
  if (n === 1) return true;
  if (path.charCodeAt(n - 1) === SLASH) return false;
  for (let i = 0; i < n; i++) {
    if (path.charCodeAt(i) !== SLASH) continue;
    const next = path.charCodeAt(i + 1);
    if (next === SLASH) return false;
    if (next !== DOT) continue;
    const after = path.charCodeAt(i + 2);
    // "/." then end or "/"; or "/.." then end or "/".
    if (i + 2 === n || after === SLASH) return false;
    if (after === DOT && (i + 3 === n || path.charCodeAt(i + 3) === SLASH)) return false;
  }
  return true;
}

const SLASH = 47;
const DOT = 46;

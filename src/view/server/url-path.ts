/**
 * Turns a request target into the unescaped path the server looks up, or
 * null when it is not a plain path: a segment that decodes to `.` or `..`
 * (`%2e%2e` included), to one holding a slash, backslash or NUL, or a
 * malformed escape. Lookups are exact, so null only makes the refusal early.
 */
export function requestPath(target: string): string | null {
  const q = target.search(/[?#]/);
  const raw = q >= 0 ? target.slice(0, q) : target;
  if (!raw.startsWith('/')) return null;
  const segments = raw.slice(1).split('/');
  const out: string[] = [];
  for (const seg of segments) {
    let s: string;
    try {
      s = decodeURIComponent(seg);
    } catch {
      return null;
    }
    if (s === '.' || s === '..' || /[/\\\0]/.test(s)) return null;
    out.push(s);
  }
  return `/${out.join('/')}`;
}

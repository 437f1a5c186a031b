/**
 * Asset paths that name files on a web server: `https://…`, `http://…`, or
 * GDAL's virtual form `/vsicurl/https://…` (what kwcoco manifests written
 * in Python hold, since GDAL opens it). Such a path is never joined to a
 * bundle folder nor normalised (that would fold the `//` of the URL).
 */

const REMOTE = /^(?:\/vsicurl\/)?https?:\/\//i;

/** True when `path` is an http(s) URL or GDAL's `/vsicurl/` form of one. */
export function isRemotePath(path: unknown): path is string {
  return typeof path === 'string' && REMOTE.test(path);
}

/** The URL a remote path names (`/vsicurl/` taken off). */
export function remoteUrl(path: string): string {
  return path.replace(/^\/vsicurl\//i, '');
}

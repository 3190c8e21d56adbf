/** Sizes as people read them, one rule for the CLI and the web page: decimal megabytes (1 MB = 10^6 bytes). */
export function megabytes(bytes: number, digits = 1): string {
  return `${(bytes / 1e6).toFixed(digits)} MB`;
}

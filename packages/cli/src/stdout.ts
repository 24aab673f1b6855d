/** Text to standard output, resolved once written (kept apart from io.ts so `--version` and `--help` load no codec code). */
export function writeStdout(text: string): Promise<void> {
  return new Promise((res, rej) => {
    process.stdout.write(text, (e) => (e ? rej(e) : res()));
  });
}

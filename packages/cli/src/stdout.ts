/** Text to standard output, resolved once written (its own module: --help and --version need no file I/O). */
export function writeStdout(text: string): Promise<void> {
  return new Promise((res, rej) => {
    process.stdout.write(text, (e) => (e ? rej(e) : res()));
  });
}

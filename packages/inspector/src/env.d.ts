/// <reference types="vite/client" />

/** compat/out/matrix.json as text when it existed at build time (see vite.config.ts). */
declare module "virtual:bundled-matrix" {
  const text: string | null;
  export default text;
}

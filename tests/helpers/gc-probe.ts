// Preloaded with `node --expose-gc --import`: announces each full GC the
// process asks for as a JSON line on stdout, where the server logs too.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  (globalThis as { gc?: () => void }).gc = () => {
    process.stdout.write(`${JSON.stringify({ msg: "probe: gc() called" })}\n`);
    gc();
  };
}

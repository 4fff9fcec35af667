// Preloaded into the server by the memory benchmark only (node --expose-gc --require …): SIGUSR2
// runs a full garbage collection, so RSS is read after GC rather than at V8's whim.
process.on("SIGUSR2", () => {
  global.gc();
  global.gc();
});

import { setTempOwner } from "../../src/util/temp-files.js";

/** As the entry point does (src/index.ts): temp files carry our pid, and dead writers' files are swept. */
export function ownTempFilesLikeTheEntryPoint(): void {
  setTempOwner({
    pid: process.pid,
    isAlive: (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
      }
    },
  });
}

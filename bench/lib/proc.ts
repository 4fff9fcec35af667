// Process and machine facts from /proc (Linux). Elsewhere the memory figures read as NaN.
import { readFileSync } from "node:fs";
import os from "node:os";

export interface ProcMemory {
  /** Resident set size now, bytes (VmRSS). */
  rss: number;
  /** Peak resident set size since the process started, bytes (VmHWM). */
  hwm: number;
  /** Anonymous resident memory (heaps, malloc arenas), bytes (RssAnon). */
  anon: number;
  /** File-backed resident memory (the node binary, shared libraries), bytes (RssFile). */
  file: number;
}

export function readMemory(pid: number): ProcMemory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string): number => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
      return match ? Number(match[1]) * 1024 : Number.NaN;
    };
    return { rss: kib("VmRSS"), hwm: kib("VmHWM"), anon: kib("RssAnon"), file: kib("RssFile") };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN, anon: Number.NaN, file: Number.NaN };
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; returns the largest value seen. */
export function sampleRss(pid: number, intervalMs = 20): { stop(): number } {
  let peak = 0;
  const tick = () => {
    const { rss } = readMemory(pid);
    if (rss > peak) peak = rss;
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return peak;
    },
  };
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  kernel: string;
  loadAverage: number[];
}

export function describeMachine(): Machine {
  let cpuModel = os.cpus()[0]?.model ?? "unknown";
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match) cpuModel = match[1]!.trim();
  } catch {
    // Not Linux: os.cpus() already gave a name.
  }
  return {
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux the bench runs on). */
const TICKS_PER_SECOND = 100;

export interface ProcCpu {
  /** User + system CPU seconds of the process itself. */
  self: number;
  /** User + system CPU seconds of its children that have exited and been waited for. */
  children: number;
}

/** CPU time of a running process from /proc/<pid>/stat (NaN when it cannot be read). */
export function readCpu(pid: number): ProcCpu {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3; utime is field 14.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const at = (field: number): number => Number(fields[field - 3]);
    return {
      self: (at(14) + at(15)) / TICKS_PER_SECOND,
      children: (at(16) + at(17)) / TICKS_PER_SECOND,
    };
  } catch {
    return { self: Number.NaN, children: Number.NaN };
  }
}

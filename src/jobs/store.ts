import { randomBytes } from "node:crypto";
import fsSync from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { Logger } from "../util/log.js";
import { createRedactor, type Redactor } from "../util/redact-deep.js";
import { sweepTemps } from "../util/temp-files.js";
import { errnoCode, errorMessage } from "../util/errors.js";
import { groupCommit } from "../util/group-commit.js";
import {
  readText,
  stillTheSame,
  syncDirectory,
  syncDirectoryBlocking,
  writeAtomic,
  writeAtomicBlocking,
  writeAtomicSync,
  type FileIdentity,
} from "./atomic-write.js";
import { parseBoundedJson } from "../util/json-bounds.js";
import { jsonLength, parseJson } from "../util/json.js";
import {
  JOB_RECORD_VERSION,
  newRecord,
  recordFileName,
  recordSchema,
  type JobLookup,
  type JobRecord,
  type JobRecordPatch,
  type RecordEstimate,
  type RecordProblem,
  type UploadInput,
} from "./record.js";

export {
  JOB_RECORD_VERSION,
  recordFileName,
  type JobFileEntry,
  type JobLookup,
  type JobRecord,
  type JobRecordPatch,
  type JobUpload,
  type RecordEstimate,
  type RecordOutcome,
  type RecordProblem,
  type UploadInput,
} from "./record.js";

/**
 * The durable job record: one JSON file per submitted job under `<stateDir>/jobs/`, so that a job
 * submitted before a restart or a crash can still be checked, fetched and saved.
 *
 * - Every write goes to a temporary file in the same folder, is fsynced, then renamed over the
 *   record: readers never see half a file, and a kill -9 leaves either the old or the new record.
 * - Looking a job up is reading one file: there is no index that two processes could corrupt.
 *   Two processes only ever write the same file for status updates, which replace the whole file
 *   (last writer wins; each write carries everything known about the job).
 * - A record that cannot be parsed is moved to `jobs/quarantine/` and reported, never dropped.
 *   A record written by a newer fal-mcp is left untouched (a newer server may be using it) and
 *   reported; this version never overwrites it.
 */

/** What `create` needs to write the record of a job fal accepted. */
export interface NewJobEntry {
  requestId: string;
  endpointId: string;
  tool: string;
  input: unknown;
  uploads?: readonly UploadInput[];
  status?: string;
  queuePosition?: number | undefined;
  estimate?: RecordEstimate | undefined;
  /** When the submit was sent (an unconfirmed attempt resolved later keeps its own time). */
  now?: Date;
  attemptId?: string | undefined;
}

/** Just the version of a record, read before its shape (zod compiles a schema at its first parse: made once). */
const versionSchema = z.looseObject({ version: z.number() });

/** Output JSON larger than this is kept in a file beside the record (`output_file`), never dropped. */
const MAX_INLINE_OUTPUT_CHARS = 256 * 1024;
/** Record texts this process wrote, kept to be read back by the next update without a file read. */
const MAX_REMEMBERED_WRITES = 64;
const MAX_REMEMBERED_WRITE_CHARS = 64 * 1024;
/** Names of old records remembered for recordsSince (about 4 MB at most). */
const MAX_REMEMBERED_OLD_RECORDS = 100_000;
/** A blocking record write slower than this (a slow or network disk) ends blocking writes for the store's life. */
export const BLOCKING_WRITE_LIMIT_MS = 20;
/**
 * Larger texts (an output kept beside its record, a record with a big inline output) always go
 * through the pool: their round trips are a small share of the write, and a slow write of many
 * bytes must not read as a slow disk.
 */
export const MAX_BLOCKING_WRITE_CHARS = 64 * 1024;

/** How the store may write its files: see JobStore's constructor. */
export interface StoreWriteOptions {
  /**
   * Asked before each write: true when nothing else is waiting on this process (one tool call
   * in flight, or none), so the write may block the thread instead of going through the thread
   * pool. Without it every write goes through the pool.
   */
  mayBlock?: () => boolean;
  /** A blocking write slower than this ends blocking writes (default BLOCKING_WRITE_LIMIT_MS). */
  blockingLimitMs?: number;
}

export class JobStore {
  readonly directory: string;
  readonly quarantineDirectory: string;
  readonly #problems: RecordProblem[] = [];
  #scanned: Promise<RecordProblem[]> | undefined;
  /** Serialises read-modify-write updates of one record within this process. */
  readonly #locks = new Map<string, Promise<unknown>>();

  readonly #log: Logger;
  readonly #redact: Redactor;
  readonly #syncDirectory: () => Promise<void>;
  /**
   * Record files whose job was submitted before a `since` already asked for (the daily cap's
   * window only moves forward, and a record's submitted_at never changes): skipped unread.
   */
  readonly #submittedLongAgo = new Set<string>();
  /**
   * The text this process last wrote to a record file, with the file's identity right after the
   * write: an update (run_model's completion, a status change) reads it from here instead of
   * from the disk while the file is provably still that one (same inode, size and mtime; any
   * other writer renames a new file over it). The text is parsed as a read would parse it.
   */
  readonly #written = new Map<string, { text: string; identity: FileIdentity }>();

  /** Whether a write may block the thread now; undefined once a blocking write was too slow. */
  #mayBlock: (() => boolean) | undefined;
  readonly #blockingLimitMs: number;

  /**
   * `logger` reports records kept aside and folder problems; silent when none is given.
   * `redactor` removes the key from everything written (fal can echo it in an output or a URL).
   * `writes.mayBlock`: when it says nothing else is waiting, a write is made with blocking calls
   * (0.5–0.9 ms on the bench VM) rather than as thread-pool round trips, each of which waits for a
   * turn of an event loop busy with the call's HTTP (2.4–3.5 ms for the same write). Under concurrency
   * the pool is kept: there a blocked thread holds every other call, and a rename can wait for
   * the journal. A blocking write slower than `blockingLimitMs` turns them off for good.
   */
  constructor(
    stateDir: string,
    logger: Logger = Logger.silent(),
    redactor: Redactor = createRedactor([]),
    writes: StoreWriteOptions = {},
  ) {
    this.#log = logger;
    this.#redact = redactor;
    this.#mayBlock = writes.mayBlock;
    this.#blockingLimitMs = writes.blockingLimitMs ?? BLOCKING_WRITE_LIMIT_MS;
    this.directory = path.join(stateDir, "jobs");
    this.quarantineDirectory = path.join(this.directory, "quarantine");
    // One folder fsync covers every rename made before it started: 32 records written at once
    // cost 2 folder fsyncs instead of 32, and each is still durable before its write returns.
    this.#syncDirectory = groupCommit(() => syncDirectory(this.directory));
  }

  /** Problems (corrupt or newer-version records) found by this process so far. */
  problems(): readonly RecordProblem[] {
    return [...this.#problems];
  }

  /** Writes the record of a job fal accepted. Call right after fal returns the request id. */
  async create(entry: NewJobEntry): Promise<JobRecord> {
    return this.startCreate(entry).written;
  }

  /**
   * The record `create` writes, built at once, and its durable write started: a caller that has
   * other work to do (the first status read of the job) overlaps it and awaits `written` before
   * it answers. `written` rejects when the write failed (the job still exists on fal).
   */
  startCreate(entry: NewJobEntry): { record: JobRecord; written: Promise<JobRecord> } {
    const record = newRecord({
      requestId: entry.requestId,
      attemptId: entry.attemptId,
      endpointId: entry.endpointId,
      tool: entry.tool,
      input: entry.input,
      uploads: entry.uploads,
      status: entry.status ?? "IN_QUEUE",
      queuePosition: entry.queuePosition,
      estimate: entry.estimate,
      submittedAt: entry.now,
    });
    const written = this.#withLock(entry.requestId, () =>
      this.#write(this.#fileFor(entry.requestId), record),
    ).then(() => record);
    return { record, written };
  }

  /**
   * Records a submit whose outcome is unknown (the connection broke or fal answered 502/503/504
   * after the request was sent): the job may exist on fal without us knowing its request id.
   */
  async recordUnconfirmed(entry: {
    endpointId: string;
    tool: string;
    input: unknown;
    uploads?: readonly UploadInput[];
    reason: string;
    estimate?: RecordEstimate | undefined;
    now?: Date;
  }): Promise<JobRecord> {
    const record = newRecord({
      requestId: null,
      endpointId: entry.endpointId,
      tool: entry.tool,
      input: entry.input,
      uploads: entry.uploads,
      status: "SUBMIT_UNCONFIRMED",
      note: entry.reason,
      estimate: entry.estimate,
      submittedAt: entry.now,
    });
    const attemptId = record.attempt_id;
    await this.#write(this.#unconfirmedFile(attemptId), record);
    return record;
  }

  /**
   * An unconfirmed attempt found in fal's request history: its record becomes the record of that
   * request id (same attempt, time and estimate), and the unconfirmed file goes.
   */
  async resolveUnconfirmed(attempt: JobRecord, requestId: string, note: string): Promise<JobRecord> {
    const record: JobRecord = {
      ...attempt,
      request_id: requestId,
      status: "IN_QUEUE",
      updated_at: new Date().toISOString(),
      note,
    };
    await this.#withLock(requestId, () => this.#write(this.#fileFor(requestId), record));
    await fs.rm(this.#unconfirmedFile(attempt.attempt_id), { force: true });
    return record;
  }

  #unconfirmedFile(attemptId: string): string {
    return path.join(this.directory, `unconfirmed-${attemptId.replace(/[^A-Za-z0-9_-]/g, "_")}.json`);
  }

  /**
   * Records that may have been submitted since `since` (for the daily cap): files written before
   * then are skipped without reading (a record's file is written at or after its submit).
   */
  async recordsSince(since: Date): Promise<JobRecord[]> {
    const records: JobRecord[] = [];
    for (const name of await this.#recordNames()) {
      // Submitted before an earlier `since`, so before every later one: not even a stat.
      if (this.#submittedLongAgo.has(name)) continue;
      const file = path.join(this.directory, name);
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat) continue;
      if (stat.mtimeMs < since.getTime()) {
        this.#rememberLongAgo(name);
        continue;
      }
      const found = await this.#read(file);
      if (found.kind !== "found") continue;
      if (Date.parse(found.record.submitted_at) < since.getTime()) this.#rememberLongAgo(name);
      else records.push(found.record);
    }
    return records;
  }

  #rememberLongAgo(name: string): void {
    if (this.#submittedLongAgo.size < MAX_REMEMBERED_OLD_RECORDS) this.#submittedLongAgo.add(name);
  }

  /** Reads one job's record. Never throws for a bad record: it is quarantined and reported. */
  async get(requestId: string): Promise<JobLookup> {
    return this.#read(this.#fileFor(requestId));
  }

  /**
   * Applies `patch` to a job's record and writes the whole record back. Returns the new record,
   * or undefined when there is no usable record (missing, corrupt, or from a newer version).
   */
  async update(requestId: string, patch: JobRecordPatch): Promise<JobRecord | undefined> {
    return this.#withLock(requestId, async () => {
      const file = this.#fileFor(requestId);
      const found = await this.#read(file, { mayUseWritten: true });
      if (found.kind !== "found") return undefined;
      const next: JobRecord = { ...found.record, ...patch, updated_at: new Date().toISOString() };
      if (patch.output !== undefined) {
        const size = jsonLength(patch.output);
        if (size > MAX_INLINE_OUTPUT_CHARS) {
          // Kept in full beside the record: fal deletes its copy within the hour.
          const outputFile = file.replace(/\.json$/, ".output.json");
          // A new file: its folder entry is made durable before the record names it.
          await this.#writeText(outputFile, JSON.stringify(this.#redact.value(patch.output)) + "\n");
          next.output = undefined;
          next.output_file = outputFile;
          next.output_omitted = null;
        }
      }
      // Just read under this process's lock at the current version: no second read before writing.
      // The file being replaced is already durable (its creation synced the folder), and the new
      // one is fsynced before the rename: a crash leaves the old record or the new one, both
      // whole, with no folder fsync (a new folder entry is what that fsync is for).
      await this.#write(file, next, { versionChecked: true, replacing: true });
      return next;
    });
  }

  /** All readable records, newest first. Corrupt files found on the way are quarantined. */
  async list(limit = Infinity): Promise<JobRecord[]> {
    const names = await this.#recordNames();
    const records: JobRecord[] = [];
    for (const name of names) {
      const found = await this.#read(path.join(this.directory, name));
      if (found.kind === "found") records.push(found.record);
    }
    records.sort((a, b) => b.submitted_at.localeCompare(a.submitted_at));
    return records.slice(0, limit);
  }

  /**
   * Once per process: reads every record (quarantining corrupt ones) and removes temporary files
   * left by a crash. Returns the problems found, for the caller to report.
   */
  scanOnce(): Promise<RecordProblem[]> {
    this.#scanned ??= (async () => {
      const before = this.#problems.length;
      await this.list().catch((error: unknown) =>
        this.#log.warn("could not scan the job record folder", error),
      );
      await this.#removeStaleTemps().catch(() => undefined);
      return this.#problems.slice(before);
    })();
    return this.#scanned;
  }

  #fileFor(requestId: string): string {
    return path.join(this.directory, recordFileName(requestId, this.#redact));
  }

  /** A job's output: from the record, or from the file beside it when it was large. */
  async outputOf(record: JobRecord): Promise<unknown> {
    if (record.output !== undefined || !record.output_file) return record.output;
    const text = await fs.readFile(record.output_file, "utf8").catch(() => undefined);
    return text === undefined ? undefined : parseJson(text);
  }

  async #recordNames(): Promise<string[]> {
    try {
      const entries = await fs.readdir(this.directory, { withFileTypes: true });
      return entries
        .filter((entry) => entry.isFile() && entry.name.endsWith(".json") && !entry.name.startsWith("."))
        .map((entry) => entry.name);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return [];
      throw error;
    }
  }

  async #removeStaleTemps(): Promise<void> {
    await sweepTemps(this.directory);
  }

  async #read(file: string, options: { mayUseWritten?: boolean } = {}): Promise<JobLookup> {
    let text: string;
    try {
      const written = options.mayUseWritten ? this.#written.get(file) : undefined;
      text = written && stillTheSame(file, written.identity) ? written.text : await readText(file);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return { kind: "missing" };
      return {
        kind: "unreadable",
        file,
        reason: `could not read it (${errnoCode(error) ?? errorMessage(error)})`,
      };
    }
    let json: unknown;
    try {
      json = parseBoundedJson(text);
    } catch {
      return this.#quarantine(file, `it is not valid JSON (${text.length} bytes)`);
    }
    const version = versionSchema.safeParse(json);
    if (version.success && version.data.version > JOB_RECORD_VERSION) {
      const reason = `it was written by a newer fal-mcp (record version ${version.data.version}; this one reads version ${JOB_RECORD_VERSION}): upgrade fal-mcp to use it`;
      this.#report({ file, reason });
      return { kind: "unreadable", file, reason };
    }
    const parsed = recordSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#quarantine(
        file,
        `it does not have the shape of a job record (${issue?.message ?? "unknown"} at ${issue?.path.join(".") || "top level"})`,
      );
    }
    return { kind: "found", record: parsed.data };
  }

  async #quarantine(file: string, reason: string): Promise<JobLookup> {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const movedTo = path.join(
      this.quarantineDirectory,
      `${path.basename(file, ".json")}.${stamp}.${randomBytes(3).toString("hex")}.json`,
    );
    try {
      await fs.mkdir(this.quarantineDirectory, { recursive: true, mode: 0o700 });
      await fs.rename(file, movedTo);
    } catch (error) {
      // Another process may have moved it first; either way the record stays on disk.
      if (errnoCode(error) !== "ENOENT")
        this.#log.warn(`could not move the unreadable job record ${file} aside`, error);
      this.#report({ file, reason });
      return { kind: "unreadable", file, reason };
    }
    this.#report({ file, reason, movedTo });
    return { kind: "unreadable", file, reason, movedTo };
  }

  #report(problem: RecordProblem): void {
    if (this.#problems.some((known) => known.file === problem.file && known.reason === problem.reason))
      return;
    this.#problems.push(problem);
    this.#log.warn(
      `job record ${problem.file} is unusable: ${problem.reason}${problem.movedTo ? `; it was kept aside as ${problem.movedTo}` : "; it was left in place"}`,
    );
  }

  async #write(
    file: string,
    record: JobRecord,
    options: { versionChecked?: boolean; replacing?: boolean } = {},
  ): Promise<void> {
    const existing = options.versionChecked ? undefined : await this.#newerVersionAt(file);
    if (existing) throw new Error(`refusing to overwrite ${file}: ${existing}`);
    await this.#writeText(file, JSON.stringify(this.#redact.value(record), null, 2) + "\n", options);
  }

  /**
   * Atomic write: a temp file (named with our pid), fsynced, renamed; the temp never outlives a
   * failure. The folder is fsynced too (group-committed) unless a durable file is being replaced.
   */
  async #writeText(file: string, text: string, options: { replacing?: boolean } = {}): Promise<void> {
    this.#written.delete(file);
    let identity: FileIdentity;
    if (text.length <= MAX_BLOCKING_WRITE_CHARS && (await this.#mayBlockNow())) {
      const started = performance.now();
      identity = writeAtomicBlocking(this.directory, file, text);
      if (!options.replacing) syncDirectoryBlocking(this.directory);
      this.#checkBlockingTime(performance.now() - started);
    } else {
      identity = await writeAtomic(this.directory, file, text);
      if (!options.replacing) await this.#syncDirectory();
    }
    if (text.length <= MAX_REMEMBERED_WRITE_CHARS) {
      this.#written.set(file, { text, identity });
      if (this.#written.size > MAX_REMEMBERED_WRITES)
        this.#written.delete(this.#written.keys().next().value as string);
    }
  }

  /**
   * Whether this write may block. It first lets the event loop take one turn, so what the call
   * has just started (run_model's status read, sent right after the submit) leaves before the
   * thread blocks, and then asks again: another call may have arrived meanwhile.
   */
  async #mayBlockNow(): Promise<boolean> {
    if (!this.#mayBlock?.()) return false;
    // The global, not node:timers/promises: that built-in would load after the launcher's flags.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return this.#mayBlock?.() ?? false;
  }

  #checkBlockingTime(ms: number): void {
    if (ms <= this.#blockingLimitMs || !this.#mayBlock) return;
    this.#mayBlock = undefined;
    this.#log.debug(
      `A job record write took ${ms.toFixed(1)} ms in ${this.directory}: record writes go through the thread pool from now on, so a slow disk never holds the process.`,
    );
  }

  /**
   * Writes an unconfirmed-submit record synchronously: for shutdown, when the process is about to
   * exit with a submit in flight. Returns the file written, or undefined when it could not be.
   */
  recordUnconfirmedSync(entry: {
    endpointId: string;
    tool: string;
    input: unknown;
    uploads?: readonly UploadInput[] | undefined;
    requestId?: string | undefined;
    reason: string;
    /** The estimate made before the submit: the daily cap counts it like any record's. */
    estimate?: RecordEstimate | undefined;
    /** When the submit started (the record's submitted_at). */
    submittedAt?: Date | undefined;
  }): string | undefined {
    const record = newRecord({
      requestId: entry.requestId ?? null,
      endpointId: entry.endpointId,
      tool: entry.tool,
      input: entry.input,
      uploads: entry.uploads,
      status: entry.requestId ? "IN_QUEUE" : "SUBMIT_UNCONFIRMED",
      note: entry.reason,
      estimate: entry.estimate,
      submittedAt: entry.submittedAt,
    });
    const attemptId = record.attempt_id;
    const file = entry.requestId
      ? this.#fileFor(entry.requestId)
      : path.join(this.directory, `unconfirmed-${attemptId}.json`);
    return writeAtomicSync(this.directory, file, JSON.stringify(this.#redact.value(record), null, 2) + "\n")
      ? file
      : undefined;
  }

  async #newerVersionAt(file: string): Promise<string | undefined> {
    // Most writes make a new record: a stat that throws nothing (an ENOENT from an open builds an
    // Error with its stack, a measured 0.4 ms per call under load) says there is nothing to check.
    if (!fsSync.existsSync(file)) return undefined;
    const text = await readText(file).catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const version = versionSchema.safeParse(JSON.parse(text));
      if (version.success && version.data.version > JOB_RECORD_VERSION)
        return `it was written by a newer fal-mcp (record version ${version.data.version})`;
    } catch {
      // A corrupt file may be replaced: the new record holds everything known.
    }
    return undefined;
  }

  async #withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#locks.set(key, settled);
    try {
      return await next;
    } finally {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    }
  }
}

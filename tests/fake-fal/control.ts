// The HTTP control API (`/__control/...`): drive the fake from another process (the stdio bin,
// the Inspector tests, benchmarks). Every route mirrors a method of FakeFal; see README.md.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Core } from "./core.js";
import { PRESETS } from "./core.js";
import type { KeyPreset, Permission } from "./hostile-types.js";
import { isObject, readJson, sendJson } from "./http.js";
import type { Fault, FaultRule } from "./types.js";

const removers = new WeakMap<Core, { seq: number; byId: Map<number, () => void> }>();
const stateOf = (core: Core): { seq: number; byId: Map<number, () => void> } => {
  let s = removers.get(core);
  if (!s) removers.set(core, (s = { seq: 0, byId: new Map() }));
  return s;
};

export async function handleControl(
  core: Core,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const method = req.method ?? "GET";
  const p = path.replace(/\/+$/, "") || "/";
  const state = stateOf(core);
  if (method === "GET") {
    if (p === "/") return void sendJson(res, 200, core.summary());
    if (p === "/requests") return void sendJson(res, 200, core.requests);
    if (p === "/transfers") return void sendJson(res, 200, core.transfers);
    if (p === "/applied-faults") return void sendJson(res, 200, core.appliedFaults);
    if (p === "/canary")
      return void sendJson(res, 200, { url: core.canaryUrl, connections: core.canaryConnections });
    if (p === "/jobs")
      return void sendJson(
        res,
        200,
        [...core.jobs.values()].map((j) => ({
          request_id: j.requestId,
          endpoint_id: j.endpointId,
          via: j.via,
          state: j.state,
          cancelled: j.cancelled,
          created_at: new Date(j.createdAt).toISOString(),
          headers: j.headers,
          store_io: j.storeIo,
          lifecycle: j.lifecycle,
        })),
      );
  }
  if (method === "DELETE" && p === "/faults") {
    core.clearFaults();
    state.byId.clear();
    return void sendJson(res, 200, { ok: true });
  }
  const del = /^\/faults\/(\d+)$/.exec(p);
  if (method === "DELETE" && del) {
    const remove = state.byId.get(Number(del[1]));
    remove?.();
    state.byId.delete(Number(del[1]));
    return void sendJson(res, remove ? 200 : 404, { ok: Boolean(remove) });
  }
  if (method !== "POST") return void sendJson(res, 404, { detail: "Unknown control endpoint" });
  const body = await readJson(req, res);
  if (!body.ok) return;
  const v = isObject(body.value) ? body.value : {};
  switch (p) {
    case "/faults": {
      if (!isObject(v.fault) || typeof v.fault.kind !== "string")
        return void sendJson(res, 400, { detail: "a rule needs fault: {kind, ...}" });
      const rule: FaultRule = { fault: v.fault as unknown as Fault };
      if (typeof v.host === "string") rule.host = v.host;
      if (typeof v.method === "string") rule.method = v.method;
      if (typeof v.path === "string") rule.path = v.path;
      if (typeof v.pathRegex === "string") rule.path = new RegExp(v.pathRegex);
      if (typeof v.times === "number") rule.times = v.times;
      const id = ++state.seq;
      state.byId.set(id, core.inject(rule));
      return void sendJson(res, 200, { id });
    }
    case "/advance": {
      const ms = Number(v.ms);
      if (!Number.isFinite(ms) || ms < 0)
        return void sendJson(res, 400, { detail: "ms must be a non-negative number" });
      core.advanceTime(ms);
      return void sendJson(res, 200, { now: new Date(core.now()).toISOString() });
    }
    case "/behavior": {
      const { endpointId, ...partial } = v;
      if (typeof endpointId !== "string" || !core.models.has(endpointId))
        return void sendJson(res, 400, { detail: "unknown endpointId" });
      core.setBehavior(endpointId, partial);
      return void sendJson(res, 200, core.behaviorFor(endpointId));
    }
    case "/settings":
      Object.assign(core.settings, v);
      return void sendJson(res, 200, core.settings);
    case "/permissions": {
      const perms = v.permissions;
      const valid =
        perms === null ||
        (typeof perms === "string" && perms in PRESETS) ||
        (Array.isArray(perms) && perms.every((x) => typeof x === "string"));
      if (typeof v.key !== "string" || !valid)
        return void sendJson(res, 400, {
          detail: `needs {key, permissions: one of ${Object.keys(PRESETS).join(", ")}, a list, or null}`,
        });
      core.setPermissions(v.key, perms as KeyPreset | Permission[] | null);
      return void sendJson(res, 200, {
        key: v.key,
        permissions: [...(core.permissions.get(v.key) ?? PRESETS.full)],
      });
    }
    case "/reset":
      core.reset();
      state.byId.clear();
      return void sendJson(res, 200, { ok: true });
    default:
      return void sendJson(res, 404, { detail: "Unknown control endpoint" });
  }
}

import { InvalidArgumentError } from "../errors.js";
import { appRoot } from "./queue.js";

/**
 * The queue URLs of a job (status_url, response_url, cancel_url), as fal's hosted server hands
 * them out and takes them back. A URL given back by the model is a request to send the user's key
 * somewhere, so it is only accepted when it names exactly this job on queue.fal.run; the call then
 * goes to the canonical app-root URL rebuilt from the checked parts (fal-platform-api.md §3.2–3.3).
 */

const QUEUE_ORIGIN = "https://queue.fal.run";

export type QueueUrlKind = "status" | "response" | "cancel";

export interface QueueUrls {
  status_url: string;
  response_url: string;
  cancel_url: string;
}

/** The app-root URLs of a job, the form fal's clients use. */
export function queueUrls(endpointId: string, requestId: string): QueueUrls {
  const base = `${QUEUE_ORIGIN}/${appRoot(endpointId)}/requests/${encodeURIComponent(requestId)}`;
  return { status_url: `${base}/status`, response_url: base, cancel_url: `${base}/cancel` };
}

const SUFFIX: Record<QueueUrlKind, RegExp> = {
  status: /^\/status$/,
  // fal's docs disagree on whether response_url ends in /response (§3.3): accept both.
  response: /^(\/response)?$/,
  cancel: /^\/cancel$/,
};

const ARGUMENT: Record<QueueUrlKind, string> = {
  status: "status_url",
  response: "response_url",
  cancel: "cancel_url",
};

/**
 * Checks a queue URL the model passed back and returns the endpoint root it names. Refused:
 * another scheme or host (the key would go there), credentials or a port in the URL, another
 * request id, an app root other than `endpointId`'s, and a path that is not this kind of URL.
 */
export function checkQueueUrl(
  raw: string,
  kind: QueueUrlKind,
  job: { requestId: string; endpointId?: string | undefined },
): { root: string } {
  const argument = ARGUMENT[kind];
  const refuse = (why: string) =>
    new InvalidArgumentError(
      `${argument} ${why}, so it was not used (the key is only ever sent to fal's queue for this job).`,
      `Leave ${argument} out: this server builds the URL from request_id${job.endpointId ? "" : " and endpoint_id"}.`,
    );
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw refuse("is not a URL");
  }
  if (url.origin !== QUEUE_ORIGIN || url.username || url.password)
    throw refuse(`is not a ${QUEUE_ORIGIN} URL`);
  const match = /^\/(.+?)\/requests\/([^/]+)(\/[^/]*)?\/?$/.exec(url.pathname);
  if (!match) throw refuse("is not a job URL of fal's queue (…/requests/<request_id>…)");
  const [, pathRoot = "", encodedId = "", suffix = ""] = match;
  let requestId: string;
  try {
    requestId = decodeURIComponent(encodedId);
  } catch {
    throw refuse("has a broken request id");
  }
  if (requestId !== job.requestId) throw refuse(`names request ${requestId}, not ${job.requestId}`);
  if (!SUFFIX[kind].test(suffix)) throw refuse(`is not a ${kind} URL`);
  const root = appRoot(pathRoot);
  const segments = root.split("/");
  if (segments.length < 2 || segments.some((part) => !/^[\w-][\w.-]*$/.test(part) || part === ".."))
    throw refuse("has an invalid endpoint path");
  if (job.endpointId !== undefined && appRoot(job.endpointId) !== root)
    throw refuse(`belongs to ${root}, not ${appRoot(job.endpointId)}`);
  return { root };
}

/**
 * The URLs to hand out for a job: fal's own (its docs say to prefer them) when they pass the same
 * check as a URL given back, else the app-root form.
 */
export function jobUrls(endpointId: string, requestId: string, given: Partial<QueueUrls> = {}): QueueUrls {
  const built = queueUrls(endpointId, requestId);
  const pick = (kind: QueueUrlKind, key: keyof QueueUrls): string => {
    const raw = given[key];
    if (raw === undefined) return built[key];
    try {
      checkQueueUrl(raw, kind, { requestId, endpointId });
      return raw;
    } catch {
      return built[key];
    }
  };
  return {
    status_url: pick("status", "status_url"),
    response_url: pick("response", "response_url"),
    cancel_url: pick("cancel", "cancel_url"),
  };
}

import { createHash } from "node:crypto";
import type { SpendSettings } from "../config.js";
import { AdvisedError } from "../errors.js";
import { formatMoney } from "../fal/pricing.js";
import { describeEstimate, type CostEstimate } from "./estimate.js";
import type { DaySpending } from "./ledger.js";

/**
 * The money gate in front of every paid submit: spending caps (per call, per local day), the
 * policy for calls whose cost cannot be estimated, and whether the user must approve the call.
 * It decides only; the job workflow asks the user (elicitation) or refuses, and nothing is sent
 * to fal unless the decision is "allow" or the approval was given for these exact arguments.
 */

export type { ConfirmPolicy, SpendSettings } from "../config.js";

/** Stable JSON: object keys sorted, so the same arguments always hash the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === "object" && !Array.isArray(item)) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key];
      return sorted;
    }
    return item;
  });
}

/** The identity of one paid call: an approval given for it holds for these arguments only. */
export function callFingerprint(call: { endpointId: string; input: unknown; options?: unknown }): string {
  return createHash("sha256")
    .update(canonicalJson({ endpoint_id: call.endpointId, input: call.input, options: call.options ?? {} }))
    .digest("hex");
}

export type SpendDecision =
  | { kind: "allow"; notes: string[] }
  | { kind: "refuse"; error: SpendRefusedError }
  | { kind: "approve"; reason: string; notes: string[] };

export interface SpendCheck {
  endpointId: string;
  estimate: CostEstimate;
  settings: SpendSettings;
  /** Today's spending; undefined where no ledger is kept (HTTP mode): the daily cap does not apply. */
  today: DaySpending | undefined;
  /** True when the client itself asks the user before every call (Claude Code with the meta key). */
  clientAsksEveryCall: boolean;
}

function usd(amount: number): string {
  return formatMoney(amount, "USD");
}

/** The gate's verdict for one call. Pure: no I/O. */
export function checkSpend(check: SpendCheck): SpendDecision {
  const { estimate, settings, endpointId } = check;
  const notes: string[] = [];
  const estimateText = `Estimated cost: ${describeEstimate(estimate)}.`;
  // A non-USD estimate cannot be compared with USD caps: treat it as unknown for the caps.
  const amount = estimate.known && estimate.currency === "USD" ? estimate.amount : undefined;

  if (amount === undefined) {
    if (settings.unknownCost === "refuse") {
      return refuse(
        `Refused before sending anything to fal: the cost of ${endpointId} cannot be estimated, and FAL_MCP_UNKNOWN_COST is "refuse". ${estimateText}`,
        'To run it anyway, set FAL_MCP_UNKNOWN_COST=allow in the "env" block of this server in the MCP client config and restart the client; or pick a model whose price get_pricing can show.',
      );
    }
    const capped = [
      settings.maxCostPerCall !== undefined ? "the per-call cap" : undefined,
      settings.maxCostPerDay !== undefined && check.today ? "the daily cap" : undefined,
    ].filter(Boolean);
    notes.push(
      `The cost could not be estimated (${estimate.known ? `in ${estimate.currency}` : estimate.reason}); it was allowed because FAL_MCP_UNKNOWN_COST is "allow"${capped.length > 0 ? `, so ${capped.join(" and ")} could not be checked for this call` : ""}.`,
    );
  }

  if (amount !== undefined && settings.maxCostPerCall !== undefined && amount > settings.maxCostPerCall) {
    return refuse(
      `Refused before sending anything to fal: ${estimateText} That is over the per-call cap of ${usd(settings.maxCostPerCall)} (FAL_MCP_MAX_COST_PER_CALL).`,
      `Ask for less (fewer images, a shorter duration, a smaller size), pick a cheaper model (get_pricing), or have the user raise FAL_MCP_MAX_COST_PER_CALL in the "env" block of this server in the MCP client config and restart the client.`,
    );
  }

  if (settings.maxCostPerDay !== undefined && check.today) {
    const after = check.today.spent + (amount ?? 0);
    if (amount !== undefined && after > settings.maxCostPerDay) {
      return refuse(
        `Refused before sending anything to fal: ${estimateText} Today (${check.today.day}) ${usd(check.today.spent)} is already spent or committed over ${check.today.jobs} job(s); this call would bring it to ${usd(after)}, over the daily cap of ${usd(settings.maxCostPerDay)} (FAL_MCP_MAX_COST_PER_DAY).`,
        `Wait until tomorrow (the cap counts the user's local day), or have the user raise FAL_MCP_MAX_COST_PER_DAY in the "env" block of this server in the MCP client config and restart the client.`,
      );
    }
    notes.push(
      `Spent today: ${usd(check.today.spent)} of the ${usd(settings.maxCostPerDay)} daily cap${check.today.unknown > 0 ? ` (${check.today.unknown} job(s) without an estimate counted as $0)` : ""}.`,
    );
  }

  const policy = settings.confirm;
  if (policy.mode === "always" && !check.clientAsksEveryCall) {
    return { kind: "approve", reason: `FAL_MCP_CONFIRM is "always"`, notes };
  }
  if (policy.mode === "over" && (amount === undefined || amount > policy.amount)) {
    return {
      kind: "approve",
      reason:
        amount === undefined
          ? `its cost is unknown and FAL_MCP_CONFIRM asks for approval over ${usd(policy.amount)}`
          : `the estimate is over ${usd(policy.amount)} (FAL_MCP_CONFIRM)`,
      notes,
    };
  }
  return { kind: "allow", notes };
}

function refuse(message: string, nextStep: string): SpendDecision {
  return { kind: "refuse", error: new SpendRefusedError(message, nextStep) };
}

/** A paid call refused by a cap or the unknown-cost policy; nothing was sent to fal. */
export class SpendRefusedError extends AdvisedError {
  override name = "SpendRefusedError";
  declare readonly nextStep: string;
  constructor(message: string, nextStep: string) {
    super(message, nextStep);
  }
}

/** A paid call that needs the user's approval first; nothing was sent to fal. */
export class ApprovalRequiredError extends AdvisedError {
  override name = "ApprovalRequiredError";
  declare readonly nextStep: string;
  constructor(message: string, nextStep: string) {
    super(message, nextStep);
  }
}

/** The question put to the user, in an elicitation form or relayed by the model. */
export function approvalQuestion(endpointId: string, estimate: CostEstimate, reason: string): string {
  return `Run ${endpointId}? Estimated cost: ${describeEstimate(estimate)}. Approval is asked because ${reason}.`;
}

export function approvalRequired(
  endpointId: string,
  estimate: CostEstimate,
  reason: string,
): ApprovalRequiredError {
  return new ApprovalRequiredError(
    `Not sent to fal yet: this paid call needs the user's approval. ${approvalQuestion(endpointId, estimate, reason)}`,
    "Ask the user whether to run it, showing them the estimate. Only if they say yes, repeat exactly the same call (same endpoint_id and input) with confirm: true. A changed input needs a new approval.",
  );
}

/**
 * Approvals offered to the model (the confirm path): the fingerprint of each call that was
 * refused for approval, for a while. `confirm: true` is honoured only for a call whose
 * fingerprint was offered, once: a changed input, or a confirm without asking first, is asked
 * again. Bounded in count and time.
 */
export class PendingApprovals {
  readonly #offered = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; max?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 30 * 60_000;
    this.#max = options.max ?? 200;
    this.#now = options.now ?? Date.now;
  }

  offer(fingerprint: string): void {
    this.#offered.delete(fingerprint);
    this.#offered.set(fingerprint, this.#now() + this.#ttlMs);
    while (this.#offered.size > this.#max) {
      const oldest = this.#offered.keys().next().value;
      if (oldest === undefined) break;
      this.#offered.delete(oldest);
    }
  }

  /** True (and used up) when this exact call was offered and has not expired. */
  take(fingerprint: string): boolean {
    const expires = this.#offered.get(fingerprint);
    this.#offered.delete(fingerprint);
    return expires !== undefined && expires > this.#now();
  }
}

/**
 * Clients that declare elicitation but never show the form (Claude Desktop and Cowork, whose
 * embedded runtime cancels the call after 60 s; claude-code#88901): they send clientInfo.name
 * "claude-ai"; Desktop's Code tab uses "local-agent-mode-…".
 */
export function elicitationReallyShown(clientName: string | undefined, declaresForm: boolean): boolean {
  if (!declaresForm) return false;
  const name = (clientName ?? "").trim().toLowerCase();
  return !(name === "claude-ai" || name.startsWith("local-agent-mode"));
}

/** Claude Code asks the user before every call of a tool marked `anthropic/requiresUserInteraction`. */
export function honoursRequiresUserInteraction(clientName: string | undefined): boolean {
  return (clientName ?? "").trim().toLowerCase() === "claude-code";
}

export const REQUIRES_USER_INTERACTION_META = "anthropic/requiresUserInteraction";

import { FalMcpError, LocalFileError } from "../errors.js";
import { errorMessage } from "../util/errors.js";
import type { UnitPrice } from "../fal/pricing.js";
import { estimateCall, withDefaults, type CostEstimate } from "./estimate.js";
import type { DailyLedger, Reservation } from "./ledger.js";
import {
  PendingApprovals,
  SpendRefusedError,
  approvalQuestion,
  approvalRequired,
  callFingerprint,
  checkSpend,
  type SpendSettings,
} from "./spend-gate.js";
import { InputRejectedError, InputValidators, type InputCheck } from "./validate-input.js";

/**
 * The money workflow around one paid submit, SDK-free: check the input against the live schema,
 * estimate the cost, apply the caps and the approval policy, hold the amount against today
 * while the submit is under way; afterwards, turn billed units (and fal's billing event) into
 * dollars. Everything that can refuse runs before anything is sent to fal.
 */

export interface MoneySources {
  /** The endpoint's OpenAPI document (cached by the catalog). */
  schema(endpointId: string, signal: AbortSignal | undefined): Promise<unknown>;
  unitPrice(endpointId: string, signal: AbortSignal | undefined): Promise<UnitPrice | undefined>;
  falEstimate(
    endpointId: string,
    request:
      { kind: "unit_price"; unitQuantity: number } | { kind: "historical_api_price"; callQuantity: number },
    signal: AbortSignal | undefined,
  ): Promise<{ totalCost: number; currency: string }>;
}

/** What the client can do to ask the user, and what it answered. */
export interface ApprovalChannel {
  /** The user confirmed through the model (the tool's `confirm: true`). */
  confirm: boolean;
  /** A form the client really shows (not Claude Desktop's, which never renders it). */
  canElicit: boolean;
  /** The answer to an elicitation asked earlier in this call, bound to the fingerprint it was asked for. */
  elicited?: { action: "accept" | "decline" | "cancel"; fingerprint: string | undefined } | undefined;
  /** Claude Code asks before every call of a tool marked requiresUserInteraction. */
  clientAsksEveryCall: boolean;
}

export interface PaidCall {
  endpointId: string;
  input: Record<string, unknown>;
  /** Other arguments that change what is bought (store_payload, expiration, …). */
  options?: Record<string, unknown> | undefined;
  signal?: AbortSignal | undefined;
}

/** A call that may be sent. `release()` once its record is written or the submit failed. */
export interface Clearance {
  kind: "cleared";
  estimate: CostEstimate;
  /** Estimate in USD for the record; null when unknown. */
  estimateUsd: number | null;
  schemaCheck: InputCheck;
  /** Lines for the answer: the estimate, the daily spending, an unchecked schema, an approval. */
  notes: string[];
  release(): Promise<void>;
}

/** The client should show a form; repeat the call with the answer. */
export interface ElicitationNeeded {
  kind: "elicit";
  question: string;
  fingerprint: string;
}

export class Money {
  readonly settings: SpendSettings;
  readonly #sources: MoneySources;
  readonly #ledger: DailyLedger | undefined;
  readonly #validators: InputValidators;
  readonly #approvals: PendingApprovals;
  readonly #principal: string;

  constructor(options: {
    settings: SpendSettings;
    sources: MoneySources;
    /** Undefined where nothing is kept on disk (HTTP mode): no daily cap. */
    ledger: DailyLedger | undefined;
    validators?: InputValidators;
    approvals?: PendingApprovals | undefined;
    /** Who the approvals belong to (a hash of the key): part of every call fingerprint. */
    principal?: string | undefined;
  }) {
    this.settings = options.settings;
    this.#sources = options.sources;
    this.#ledger = options.ledger;
    this.#validators = options.validators ?? new InputValidators();
    this.#approvals = options.approvals ?? new PendingApprovals();
    this.#principal = options.principal ?? "";
  }

  /**
   * Everything that must pass before the submit. Throws InputRejectedError, SpendRefusedError or
   * ApprovalRequiredError (nothing sent); returns an elicitation to show, or the clearance.
   */
  async clear(call: PaidCall, channel: ApprovalChannel): Promise<Clearance | ElicitationNeeded> {
    const notes: string[] = [];
    let schemaCheck: InputCheck;
    let defaults: Record<string, unknown> | undefined;
    try {
      const document = await this.#sources.schema(call.endpointId, call.signal);
      schemaCheck = this.#validators.check(document, call.endpointId, call.input);
      if (schemaCheck.status !== "unchecked")
        defaults = this.#validators.compile(document, call.endpointId).defaults;
    } catch (error) {
      if (call.signal?.aborted) throw error;
      schemaCheck = {
        status: "unchecked",
        reason: `its schema could not be read (${error instanceof Error ? error.message : String(error)})`,
      };
    }
    if (schemaCheck.status === "invalid") throw new InputRejectedError(call.endpointId, schemaCheck.problems);
    if (schemaCheck.status === "unchecked")
      notes.push(`The input was not checked against the live schema before sending: ${schemaCheck.reason}.`);

    const estimate = await estimateCall(call.endpointId, withDefaults(call.input, defaults), {
      unitPrice: () => this.#sources.unitPrice(call.endpointId, call.signal),
      falEstimate: (request) => this.#sources.falEstimate(call.endpointId, request, call.signal),
    });
    const estimateUsd = estimate.known && estimate.currency === "USD" ? estimate.amount : null;
    // Held BEFORE today's spending is read: a call under way elsewhere at the same moment sees it.
    const reservation = await this.#ledger?.reserve(estimateUsd ?? 0);
    try {
      return await this.#decide(call, channel, { estimate, estimateUsd, schemaCheck, notes, reservation });
    } catch (error) {
      await reservation?.release();
      throw error;
    }
  }

  async #decide(
    call: PaidCall,
    channel: ApprovalChannel,
    found: {
      estimate: CostEstimate;
      estimateUsd: number | null;
      schemaCheck: InputCheck;
      notes: string[];
      reservation: Reservation | undefined;
    },
  ): Promise<Clearance | ElicitationNeeded> {
    const { estimate, estimateUsd, schemaCheck, notes, reservation } = found;
    let today;
    try {
      today = await this.#ledger?.today({ except: reservation });
    } catch (error) {
      // A cap that cannot be checked is not passed: nothing is sent.
      throw new LocalFileError(
        `Not sent to fal: the daily cap (FAL_MCP_MAX_COST_PER_DAY) could not be checked, because the job record folder could not be read (${errorMessage(error)}).`,
        "Have the user point FAL_MCP_STATE_DIR at a folder this user can read and write (or unset FAL_MCP_MAX_COST_PER_DAY), then restart the client.",
      );
    }
    const decision = checkSpend({
      endpointId: call.endpointId,
      estimate,
      settings: this.settings,
      today,
      clientAsksEveryCall: channel.clientAsksEveryCall,
    });
    if (decision.kind === "refuse") throw decision.error;
    notes.push(...decision.notes);

    if (decision.kind === "approve") {
      const fingerprint = callFingerprint({
        endpointId: call.endpointId,
        input: call.input,
        options: { ...call.options, principal: this.#principal },
      });
      const elicited = channel.elicited;
      if (elicited && elicited.fingerprint === fingerprint) {
        // Whatever the form said, a standing confirm offer for this call is used up by it.
        this.#approvals.take(fingerprint);
        if (elicited.action !== "accept")
          throw new SpendRefusedError(
            `Not sent to fal: the user ${elicited.action === "decline" ? "declined" : "dismissed"} running ${call.endpointId} (${approvalQuestion(call.endpointId, estimate, decision.reason)}).`,
            "Do not run it again unless the user asks for it.",
          );
        notes.push("The user approved this call in the client's form.");
      } else if (channel.confirm && this.#approvals.take(fingerprint)) {
        notes.push("Run with confirm: true after the user was asked about these exact arguments.");
      } else if (channel.canElicit) {
        // If the form cannot be shown after all, the confirm path is open for these arguments.
        this.#approvals.offer(fingerprint);
        await reservation?.release();
        return {
          kind: "elicit",
          question: approvalQuestion(call.endpointId, estimate, decision.reason),
          fingerprint,
        };
      } else {
        this.#approvals.offer(fingerprint);
        throw approvalRequired(call.endpointId, estimate, decision.reason);
      }
    }

    return {
      kind: "cleared",
      estimate,
      estimateUsd,
      schemaCheck,
      notes,
      release: async () => reservation?.release(),
    };
  }
}

/**
 * The client should show the approval form before this call goes on: the MCP layer asks (an
 * input-required round, or an elicitation request on older connections) and calls again with
 * the answer bound to `fingerprint`. Where it cannot ask, the message still tells what to do.
 */
export class ApprovalElicitation extends FalMcpError {
  override name = "ApprovalElicitation";
  readonly question: string;
  readonly fingerprint: string;
  readonly nextStep =
    "Ask the user whether to run it, showing them the estimate; only if they agree, repeat exactly the same call with confirm: true.";
  constructor(question: string, fingerprint: string) {
    super(`Not sent to fal yet: the user's approval is needed. ${question}`);
    this.question = question;
    this.fingerprint = fingerprint;
  }
}

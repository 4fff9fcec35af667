// A small corpus of fal docs pages for the docs-search MCP endpoint and the llms.txt fallbacks.
// Content paraphrases fal's documentation (see fal-platform-api.md for sources).

export interface DocPage {
  title: string;
  link: string;
  description: string;
  content: string[];
}

const D = "https://fal.ai/docs";

export const DOCS: DocPage[] = [
  {
    title: "Asynchronous Inference",
    link: `${D}/documentation/model-apis/inference/queue`,
    description: "Submit requests to the queue, poll their status and fetch results.",
    content: [
      "Asynchronous inference is the recommended way to call models on fal. Submit a request with POST https://queue.fal.run/{endpoint_id}; the response carries a request_id and the status_url, response_url and cancel_url to use.",
      "Put the full model ID in the submit or run URL. The status, result, and cancel URLs use only the owner and the app.",
      "Status is IN_QUEUE (with queue_position), IN_PROGRESS (with logs when logs=1 was asked for) or COMPLETED. A failed request is still COMPLETED and carries error and error_type.",
    ],
  },
  {
    title: "Queue status stream",
    link: `${D}/inference-api/queue/status-stream`,
    description: "Follow a request's status as server-sent events.",
    content: [
      "GET /{app}/requests/{request_id}/status/stream returns text/event-stream. Each event has one data line holding a status object. A comment is sent every 15 seconds as keep-alive and the stream closes after COMPLETED.",
    ],
  },
  {
    title: "Get request result",
    link: `${D}/inference-api/queue/result`,
    description: "Fetch the output of a completed queue request, and how long it is kept.",
    content: [
      "GET /{app}/requests/{request_id} returns what the model returned: its status code, headers and body.",
      "Results are kept for 1 hour after completion, and only 6 minutes when the result is 10 KB or larger, unless payload storage is enabled.",
    ],
  },
  {
    title: "Cancel a request",
    link: `${D}/inference-api/queue/cancel`,
    description: "Cancel a queued or running request.",
    content: [
      "PUT /{app}/requests/{request_id}/cancel answers 202 CANCELLATION_REQUESTED, 400 ALREADY_COMPLETED or 404 NOT_FOUND.",
      "A queued request is removed from the queue. A running request receives a cancellation signal and the app decides; it may still complete.",
    ],
  },
  {
    title: "Webhooks",
    link: `${D}/documentation/model-apis/inference/webhooks`,
    description: "Receive the result of a queue request by webhook.",
    content: [
      "Add ?fal_webhook=https://example.com/hook to the submit URL. When the request completes fal POSTs {request_id, gateway_request_id, status, payload, error} to that URL.",
      "The webhook URL must be publicly reachable over HTTPS. Webhook deliveries are retried on failure.",
    ],
  },
  {
    title: "Synchronous inference",
    link: `${D}/documentation/model-apis/inference/synchronous`,
    description: "Run a model and wait for the output on the same connection.",
    content: [
      "POST https://fal.run/{endpoint_id} runs the model and returns the output directly. There are no server-side retries and no status tracking; if the connection drops the result is lost.",
    ],
  },
  {
    title: "File uploads and storage",
    link: `${D}/documentation/model-apis/storage/uploads`,
    description: "Upload files to the fal CDN and use them as model inputs.",
    content: [
      "Media inputs accept a public URL, a base64 data URI, or a fal CDN URL from an upload. Use fal.storage.upload(file) in the JavaScript client to get a https://v3.fal.media URL.",
      "Uploads are initiated with POST https://rest.fal.ai/storage/upload/initiate and the bytes are PUT to the signed upload_url. Files larger than 90 MB are uploaded in 10 MB parts with a multipart upload.",
    ],
  },
  {
    title: "Data retention",
    link: `${D}/model-apis/data-retention`,
    description: "How long request payloads and media files are kept, and how to change it.",
    content: [
      "Request payloads are stored for 30 days by default. Send X-Fal-Store-IO: 0 to not store them.",
      "Output media expiration and access are controlled with the X-Fal-Object-Lifecycle-Preference header or the account storage settings. Expired files are deleted permanently.",
    ],
  },
  {
    title: "API keys and authentication",
    link: `${D}/documentation/model-apis/authentication/key-based`,
    description: "Authenticate requests with an API key.",
    content: [
      "Send Authorization: Key <FAL_KEY>. A key is either one string or an id and secret joined with a colon (FAL_KEY_ID:FAL_KEY_SECRET).",
      "Keys have a scope: API keys run models; ADMIN keys add private models and admin Platform API endpoints. Never expose keys in client-side code.",
    ],
  },
  {
    title: "Pricing",
    link: `${D}/documentation/model-apis/pricing`,
    description: "How model usage is priced and billed.",
    content: [
      "Each endpoint has a unit price in a unit such as image, megapixels, second of video or compute seconds. GET https://api.fal.ai/v1/models/pricing?endpoint_id=... returns the prices for your account.",
      "Server errors (5xx) are never billed. Invalid input errors (422) may be billed if GPU time was spent.",
    ],
  },
  {
    title: "Estimate cost",
    link: `${D}/platform-apis/v1/models/pricing/estimate`,
    description: "Estimate the cost of calls before running them.",
    content: [
      "POST https://api.fal.ai/v1/models/pricing/estimate with estimate_type unit_price (unit_quantity per endpoint) or historical_api_price (call_quantity per endpoint). The answer is total_cost and currency.",
    ],
  },
  {
    title: "Concurrency limits",
    link: `${D}/documentation/model-apis/concurrency-limits`,
    description: "How many requests can run at once and what happens above the limit.",
    content: [
      "Model APIs limit concurrency, not requests per minute. New accounts start at 2 concurrent requests; the limit rises automatically with credit purchases up to 40.",
      "Queued requests are never rejected for concurrency: they wait. Direct runs over the limit get HTTP 429 with error type concurrent_requests_limit and the header X-Fal-needs-retry: 1.",
    ],
  },
  {
    title: "Model errors",
    link: `${D}/documentation/model-apis/errors`,
    description: "Validation errors returned by models (422 detail arrays).",
    content: [
      "Model errors use a detail array: each entry has loc, msg, type, url, ctx and input. Types include content_policy_violation, image_too_small, image_too_large, file_download_error, greater_than, less_than_equal.",
    ],
  },
  {
    title: "Request errors",
    link: `${D}/documentation/model-apis/request-errors`,
    description: "Infrastructure and request errors with error_type and X-Fal-Error-Type.",
    content: [
      "Request errors are returned as {detail, error_type} with the same value in the X-Fal-Error-Type header: request_timeout and startup_timeout (504), runner_scheduling_failure (503), runner_incomplete_response (502), internal_error (500), client_cancelled (499), bad_request (400).",
    ],
  },
  {
    title: "Common request parameters",
    link: `${D}/documentation/model-apis/common-parameters`,
    description: "Headers that change how a request is handled.",
    content: [
      "X-Fal-Request-Timeout sets a deadline for the request to start; when it is missed the request fails with 504 and X-Fal-Request-Timeout-Type: user. X-Fal-Queue-Priority: low puts a request behind normal ones.",
    ],
  },
  {
    title: "Reliability and retries",
    link: `${D}/model-apis/model-endpoints/reliability`,
    description: "Server-side retries, fallbacks and X-Fal-No-Retry.",
    content: [
      "The queue retries a request up to 10 times when a runner fails. Send X-Fal-No-Retry: 1 to disable it. For supported models fal may reroute to a fallback endpoint; x-fal-disable-fallbacks turns that off.",
    ],
  },
  {
    title: "Training a FLUX LoRA",
    link: `${D}/documentation/training/flux-lora`,
    description: "Fine-tune FLUX on your own images with LoRA training.",
    content: [
      "Zip at least 4 images and submit them to fal-ai/flux-lora-fast-training with images_data_url and a trigger_word. Training takes a few minutes; the result has diffusers_lora_file and config_file.",
      "Use the trained LoRA with fal-ai/flux-lora by passing loras: [{path, scale}].",
    ],
  },
  {
    title: "Model search API",
    link: `${D}/platform-apis/v1/models`,
    description: "List, find and search models with GET /v1/models.",
    content: [
      "GET https://api.fal.ai/v1/models supports q, category, status, repeated endpoint_id, limit and cursor paging. expand=openapi-3.0 adds each model's OpenAPI document.",
    ],
  },
  {
    title: "Request history",
    link: `${D}/platform-apis/v1/models/requests/by-endpoint`,
    description: "List past requests of an endpoint.",
    content: [
      "GET https://api.fal.ai/v1/models/requests/by-endpoint?endpoint_id=... lists requests with request_id, status_code, duration and, with expand=payloads, json_input and json_output.",
    ],
  },
  {
    title: "Usage API",
    link: `${D}/platform-apis/v1/models/usage`,
    description: "Usage line items per endpoint and time bucket.",
    content: [
      "GET https://api.fal.ai/v1/models/usage returns time_series buckets with endpoint_id, unit, quantity and unit_price. Some data needs an ADMIN key.",
    ],
  },
  {
    title: "fal MCP server",
    link: `${D}/documentation/setting-up/mcp`,
    description: "Connect AI assistants to fal through MCP.",
    content: [
      "fal hosts an MCP server at https://mcp.fal.ai/mcp with tools to search models, read schemas and prices, run and check jobs and upload files.",
      "Clients that cannot use OAuth can run a local stdio MCP server configured with FAL_KEY.",
    ],
  },
  {
    title: "JavaScript client",
    link: `${D}/documentation/clients/javascript`,
    description: "Install and use @fal-ai/client.",
    content: [
      "npm install @fal-ai/client. Create a client with createFalClient({credentials}) and call fal.subscribe(endpointId, {input}) or fal.queue.submit for long jobs.",
    ],
  },
  {
    title: "Python client",
    link: `${D}/documentation/clients/python`,
    description: "Install and use fal-client for Python.",
    content: [
      "pip install fal-client. fal_client.subscribe(endpoint, arguments) submits to the queue and waits; fal_client.upload_file uploads a local file to the CDN.",
    ],
  },
  {
    title: "FAQ",
    link: `${D}/model-apis/faq`,
    description: "Frequently asked questions about billing, limits and accounts.",
    content: [
      "When an account's balance falls below its lock threshold, API requests are rejected until credits are added. Top up your balance in the dashboard billing page.",
    ],
  },
  {
    title: "Image sizes and aspect ratios",
    link: `${D}/documentation/model-apis/image-sizes`,
    description: "Preset image sizes accepted by image models.",
    content: [
      "image_size accepts square_hd (1024x1024), square (512x512), portrait_4_3, portrait_16_9, landscape_4_3 and landscape_16_9, or an object {width, height}.",
    ],
  },
  {
    title: "Video generation guide",
    link: `${D}/documentation/guides/video-generation`,
    description: "Choose and run text-to-video and image-to-video models.",
    content: [
      "Video models such as Kling, Veo 3, Hailuo and Wan take minutes to run: always use the queue and poll the status. Prices are usually per second of generated video.",
    ],
  },
];

/** Keyword search: each query word scores by occurrences, title matches weigh more. */
export function searchDocs(query: string, limit = 5): DocPage[] {
  const words = query
    .toLowerCase()
    .split(/[^a-z0-9_-]+/)
    .filter((w) => w.length > 1);
  if (!words.length) return [];
  const scored = DOCS.map((page) => {
    const title = page.title.toLowerCase();
    const body = `${page.description} ${page.content.join(" ")} ${page.link}`.toLowerCase();
    let score = 0;
    for (const w of words) {
      if (title.includes(w)) score += 5;
      score += body.split(w).length - 1;
    }
    return { page, score };
  });
  return scored
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((s) => s.page);
}

export function docText(page: DocPage): string {
  return `Title: ${page.title}\nLink: ${page.link}\nContent: ${page.content.join("\n\n")}`;
}

export function llmsTxt(): string {
  const lines = ["# fal", "", "> fal is a generative media platform for developers.", "", "## Docs", ""];
  for (const p of DOCS) lines.push(`- [${p.title}](${p.link}.md): ${p.description}`);
  return lines.join("\n") + "\n";
}

export function docMarkdown(page: DocPage): string {
  return `# ${page.title}\n\n> ${page.description}\n\n${page.content.join("\n\n")}\n`;
}

// The result viewer's script (runs in the host's sandboxed iframe, bundled into one HTML file by
// scripts/build-viewer.ts). It receives the tool result from the host over the MCP Apps protocol and
// draws it with DOM calls only: every value comes from fal through the model, so nothing is parsed
// as HTML and only fal's CDN URLs are loaded (the resource's CSP allows nothing else either).
import { App } from "@modelcontextprotocol/ext-apps";
import { viewJob, type ViewedFile, type ViewedJob, type ViewOptions } from "../model.js";

const options = readOptions();
const root = document.getElementById("root")!;
let toolInput: unknown;

const app = new App({ name: "fal-mcp result viewer", version: "1" }, {}, { autoResize: true });
app.ontoolinput = (params) => {
  toolInput = params.arguments;
};
app.ontoolresult = (result) => {
  render(viewJob(result.structuredContent, toolInput, options));
};
app.onhostcontextchanged = (context) => {
  if (context.theme) document.documentElement.dataset.theme = context.theme;
};
app.connect().then(
  () => {
    const theme = app.getHostContext()?.theme;
    if (theme) document.documentElement.dataset.theme = theme;
  },
  (error: unknown) => showMessage(`Could not connect to the host: ${String(error)}`),
);

function readOptions(): ViewOptions {
  const element = document.getElementById("fal-mcp-viewer-options");
  try {
    const parsed = JSON.parse(element?.textContent ?? "{}") as { baseUrl?: unknown };
    return typeof parsed.baseUrl === "string" ? { baseUrl: parsed.baseUrl } : {};
  } catch {
    return {};
  }
}

function render(job: ViewedJob): void {
  root.replaceChildren();
  const header = element("header");
  header.append(element("h1", job.endpointId ?? "fal job"));
  if (job.prompt) header.append(element("p", `“${job.prompt}”`, "prompt"));
  const facts = element("dl", undefined, "facts");
  fact(facts, "Request", job.requestId, "request-id");
  fact(facts, "Status", job.status, "status");
  fact(facts, "Cost", job.cost, "cost");
  fact(facts, "Saved in", job.outputDir, "output-dir");
  header.append(facts);
  root.append(header);
  if (job.note) root.append(element("p", job.note, "note"));
  const gallery = element("section", undefined, "gallery");
  for (const file of job.files) gallery.append(card(file));
  root.append(gallery);
}

function card(file: ViewedFile): HTMLElement {
  const figure = element("figure", undefined, `file ${file.kind}`);
  const media = mediaElement(file);
  if (media) figure.append(media);
  const caption = element("figcaption");
  caption.append(element("strong", file.field));
  const about = [file.contentType, file.size].filter(Boolean).join(", ");
  if (about) caption.append(element("span", ` ${about}`));
  if (file.path) caption.append(element("code", file.path, "saved-path"));
  else if (file.error) caption.append(element("span", `Not saved: ${file.error}`, "error"));
  if (file.src) {
    const link = element("a", "Open original", "open") as HTMLAnchorElement;
    link.href = file.url;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      void app.openLink({ url: file.url }).catch(() => undefined);
    });
    caption.append(link);
  } else {
    caption.append(element("code", file.url, "url"));
  }
  figure.append(caption);
  return figure;
}

function mediaElement(file: ViewedFile): HTMLElement | undefined {
  if (!file.src) return undefined;
  if (file.kind === "image") {
    const image = document.createElement("img");
    image.alt = file.field;
    image.src = file.src;
    return image;
  }
  if (file.kind === "video" || file.kind === "audio") {
    const player = document.createElement(file.kind);
    player.controls = true;
    player.preload = "metadata";
    player.src = file.src;
    return player;
  }
  return undefined;
}

function fact(list: HTMLElement, term: string, value: string | undefined, name: string): void {
  if (!value) return;
  list.append(element("dt", term), element("dd", value, name));
}

function showMessage(message: string): void {
  root.replaceChildren(element("p", message, "note"));
}

function element(tag: string, content?: string, className?: string): HTMLElement {
  const node = document.createElement(tag);
  if (content !== undefined) node.textContent = content;
  if (className) node.className = className;
  return node;
}

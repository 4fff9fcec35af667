// A minimal MCP Apps host for the viewer test (bundled by tests/viewer/viewer.test.ts and run in
// headless Chromium). For each view it does what a real host does: puts the ui:// resource's HTML in
// a sandboxed iframe under a CSP built from the resource's `_meta.ui.csp`, connects ext-apps'
// AppBridge over postMessage, and sends the tool input and the real tool result.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

export interface HostedView {
  title: string;
  html: string;
  csp: { resourceDomains?: string[]; connectDomains?: string[] };
  toolInput: Record<string, unknown>;
  toolResult: { content: unknown[]; structuredContent?: unknown; isError?: boolean };
}

declare global {
  interface Window {
    hostViews: (views: HostedView[]) => Promise<void>;
    hostLog: string[];
  }
}

window.hostLog = [];

/** The CSP the spec asks hosts to derive: nothing by default, the declared domains for media and calls. */
function contentSecurityPolicy(csp: HostedView["csp"]): string {
  const resources = (csp.resourceDomains ?? []).join(" ");
  const connect = csp.connectDomains?.length ? csp.connectDomains.join(" ") : "'none'";
  return [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${resources}`,
    `style-src 'unsafe-inline' ${resources}`,
    `img-src ${resources}`,
    `media-src ${resources}`,
    `font-src ${resources}`,
    `connect-src ${connect}`,
    "frame-src 'none'",
    "base-uri 'self'",
  ].join("; ");
}

async function hostView(view: HostedView, index: number): Promise<void> {
  const section = document.createElement("section");
  const heading = document.createElement("h2");
  heading.textContent = view.title;
  const iframe = document.createElement("iframe");
  iframe.name = `view-${index}`;
  iframe.setAttribute("sandbox", "allow-scripts");
  const meta = `<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(view.csp)}">`;
  iframe.srcdoc = view.html.replace("<head>", `<head>${meta}`);
  section.append(heading, iframe);
  document.getElementById("views")!.append(section);

  const bridge = new AppBridge(null, { name: "fal-mcp-test-host", version: "0" }, { openLinks: {} });
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.ceil(height)}px`;
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow!, iframe.contentWindow!));
  await initialized;
  window.hostLog.push(`view ${index} initialized`);
  await bridge.sendToolInput({ arguments: view.toolInput });
  await bridge.sendToolResult(view.toolResult as Parameters<AppBridge["sendToolResult"]>[0]);
  window.hostLog.push(`view ${index} got its result`);
}

window.hostViews = async (views) => {
  await Promise.all(views.map((view, index) => hostView(view, index)));
};

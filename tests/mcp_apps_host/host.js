// Test only: a browser MCP Apps host built on the official SDK, as its basic-host example is built.
// The official MCP client connects to the server over streamable HTTP (a cross-origin page: CORS),
// calls a tool, reads the view it names, and renders it through the official AppBridge inside a
// sandbox proxy served from another origin with the spec's CSP as an HTTP header. What the view
// asks of the host is recorded in window.hostLog for the test to read.

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { AppBridge, PostMessageTransport, RESOURCE_MIME_TYPE, getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";

const HOST_INFO = { name: "vapi-mcp test host (official AppBridge)", version: "1" };
const EXTENSION = "io.modelcontextprotocol/ui";

const log = (window.hostLog = {
  stage: "starting",
  toolCalls: [],
  rejected: [],
  sizes: [],
  errors: [],
  appCapabilities: null,
  appInfo: null,
  resourceMimeType: null,
  resourceMeta: null,
});

// options: server (the MCP endpoint), sandbox (the proxy page's URL), tool, arguments, hostContext,
// height (the frame's initial height), cancel (a reason: the tool call is cancelled instead of run).
window.startHost = async (options) => {
  try {
    await run(options);
    log.stage = "shown";
  } catch (error) {
    log.errors.push(String(error && error.stack ? error.stack : error));
    log.stage = "failed";
  }
};

async function run(options) {
  const client = new Client(HOST_INFO, { capabilities: { extensions: { [EXTENSION]: { mimeTypes: [RESOURCE_MIME_TYPE] } } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(options.server)));
  log.stage = "connected";
  const tools = new Map((await client.listTools()).tools.map((tool) => [tool.name, tool]));
  const tool = tools.get(options.tool);
  if (!tool) throw new Error("no tool " + options.tool);
  const uri = getToolUiResourceUri(tool);
  if (!uri) throw new Error(options.tool + " names no view");

  const resultPromise = options.cancel ? null : client.callTool({ name: options.tool, arguments: options.arguments });
  const resource = await client.readResource({ uri });
  if (resource.contents.length !== 1) throw new Error("a view is one resource");
  const content = resource.contents[0];
  log.resourceMimeType = content.mimeType;
  log.resourceMeta = content._meta || null;
  if (content.mimeType !== RESOURCE_MIME_TYPE) throw new Error("not an MCP App: " + content.mimeType);
  const html = "blob" in content ? atob(content.blob) : content.text;
  const csp = content._meta && content._meta.ui && content._meta.ui.csp;

  const iframe = document.createElement("iframe");
  iframe.id = "view";
  iframe.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms");
  iframe.style.cssText = `display: block; width: 600px; height: ${options.height}px; border: 0`;
  const proxyReady = new Promise((resolve) => {
    window.addEventListener("message", function ready(event) {
      if (event.source === iframe.contentWindow && event.data && event.data.method === "ui/notifications/sandbox-proxy-ready") {
        window.removeEventListener("message", ready);
        resolve();
      }
    });
  });
  const proxy = new URL(options.sandbox);
  proxy.searchParams.set("host", location.origin);
  iframe.src = proxy.href;
  document.body.appendChild(iframe);
  await proxyReady;
  log.stage = "proxy ready";

  const capabilities = client.getServerCapabilities() || {};
  const bridge = new AppBridge(client, HOST_INFO, { serverTools: capabilities.tools, serverResources: capabilities.resources }, { hostContext: options.hostContext });
  window.bridge = bridge;
  bridge.onsizechange = ({ width, height }) => {
    log.sizes.push({ width, height });
    if (height !== undefined) iframe.style.height = `${height}px`;  // the frame follows the view (width stays the host's)
  };
  const initialized = new Promise((resolve) => { bridge.oninitialized = resolve; });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  const forward = bridge.oncalltool;  // the bridge forwards to the server; the host decides what a view may call
  bridge.oncalltool = async (params, extra) => {
    const called = tools.get(params.name);
    const visibility = called && called._meta && called._meta.ui && called._meta.ui.visibility;
    if (!called || (visibility && !visibility.includes("app"))) {
      log.rejected.push(params.name);
      throw new Error(params.name + " is not callable by apps");
    }
    log.toolCalls.push(params.name);
    return forward(params, extra);
  };
  await bridge.sendSandboxResourceReady({ html, csp });
  await initialized;
  log.stage = "initialized";
  log.appCapabilities = bridge.getAppCapabilities() || null;
  log.appInfo = bridge.getAppVersion() || null;
  bridge.sendToolInput({ arguments: options.arguments });
  if (options.cancel) {
    await bridge.sendToolCancelled({ reason: options.cancel });
  } else {
    await bridge.sendToolResult(await resultPromise);
  }
}

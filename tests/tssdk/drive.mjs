// Drives Vapi's TypeScript server SDK (@vapi-ai/server-sdk) against a sandbox served on loopback.
//
//   node drive.mjs <folder where the SDK is installed> <sandbox base URL>
//
// Every resource the SDK and the sandbox share goes through its SDK methods, with bodies the SDK's
// request types declare. Each call is one check, printed as one JSON line {method, ok, error}: `error`
// is the sandbox's refusal (status and body) or the SDK's own error, or how the answer breaks the type
// the method declares (`shapes.mjs`: the SDK returns the body unvalidated, so code typed against it
// reads what the declared type promises only when the answer has that shape). The sandbox's clock is
// moved forward through its own control (`POST /sandbox/clock`) where a call must end or a run finish.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

import { readTypes, Shapes } from "./shapes.mjs";

const [folder, BASE] = process.argv.slice(2);
const SDK = join(folder, "node_modules", "@vapi-ai", "server-sdk");
const { VapiClient, VapiError } = await import(pathToFileURL(join(SDK, "dist", "esm", "index.mjs")).href);
const TOKEN = "sk-any";
const client = new VapiClient({ token: TOKEN, environment: BASE, maxRetries: 0, timeoutInSeconds: 30 });
const shapes = new Shapes(readTypes(SDK));

const RESOURCE_DIRS = {
  assistants: "assistants", squads: "squads", calls: "calls", chats: "chats", campaigns: "campaigns", sessions: "sessions",
  phoneNumbers: "phoneNumbers", tools: "tools", files: "files", knowledgeBasesV2: "knowledgeBasesV2", structuredOutputs: "structuredOutputs",
  simulationPersonalities: "simulationPersonalities", simulationScenarios: "simulationScenarios", simulationRuns: "simulationRuns",
  simulationSuites: "simulationSuites", simulations: "simulations", eval: "eval", observabilityScorecard: "observabilityScorecard", analytics: "analytics",
};

function declared(resource, method) {
  // The type `client.<resource>.<method>` declares it returns, from its client's .d.mts.
  const text = readFileSync(join(SDK, "dist", "esm", "api", "resources", RESOURCE_DIRS[resource], "client", "Client.d.mts"), "utf8");
  const m = new RegExp(`\\n\\s+${method}\\([^\\n]*HttpResponsePromise<(.+)>;`).exec(text);
  if (!m) throw new Error(`no declaration of ${resource}.${method}`);
  return m[1];
}

let failures = 0;
function report(method, ok, error) {
  if (!ok) failures++;
  process.stdout.write(`${JSON.stringify({ method, ok, error })}\n`);
}

async function call(resource, method, request) {
  const name = `${resource}.${method}`;
  let data;
  try {
    data = await client[resource][method](request);
  } catch (exc) {
    if (exc instanceof VapiError && exc.statusCode !== undefined) report(name, false, `${exc.statusCode}: ${JSON.stringify(exc.body).slice(0, 400)}`);
    else report(name, false, `the SDK call failed: ${exc?.name}: ${String(exc?.message).slice(0, 400)}`);
    return undefined;
  }
  const type = declared(resource, method);
  const problems = type === "void" ? [] : shapes.check(data, type);
  report(name, problems.length === 0, problems.length ? `answer is no ${type}: ${problems.slice(0, 8).join("; ")}` : null);
  return data;
}

async function advance(seconds) {
  const answer = await fetch(`${BASE}/sandbox/clock`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  if (!answer.ok) throw new Error(`the sandbox clock did not move: ${answer.status} ${await answer.text()}`);
  return (await answer.json()).now;
}

const MODEL = { provider: "openai", model: "gpt-4o", messages: [{ role: "system", content: "You are Sunny Paws' receptionist. A nail trim is $15." }] };
const VOICE = { provider: "11labs", voiceId: "burt" };
const SCHEMA = { type: "boolean", description: "Whether the caller asked about a nail trim." };
const MOCK = [
  { role: "user", content: "How much is a nail trim?" },
  { role: "assistant", judgePlan: { type: "regex", content: ".+" } },
];
let numbers = 0;

const assistant = () => call("assistants", "create", { name: "Sunny Paws", firstMessage: "Hi, Sunny Paws grooming!", model: MODEL, voice: VOICE });
const freeNumber = () => call("phoneNumbers", "create", { provider: "vapi", numberDesiredAreaCode: "415", name: "Front desk" });
const twilioNumber = () =>
  call("phoneNumbers", "create", { provider: "twilio", number: `+1415555${String(170 + numbers++).padStart(4, "0")}`, twilioAccountSid: "AC0123", twilioAuthToken: "t" });

async function endedCall() {
  const [who, line] = [await assistant(), await twilioNumber()];
  const made = await call("calls", "create", { assistantId: who?.id, phoneNumberId: line?.id, customer: { number: "+14155550123", name: "Ada" } });
  await advance(60);
  return made;
}

const RESOURCES = {
  async assistants() {
    const made = await assistant();
    await call("assistants", "list", {});
    await call("assistants", "get", { id: made?.id });
    await call("assistants", "update", { id: made?.id, firstMessage: "Hello from Sunny Paws!" });
    await call("assistants", "delete", { id: made?.id });
  },
  async squads() {
    const member = await assistant();
    const squad = await call("squads", "create", { name: "Front desk", members: [{ assistantId: member?.id }] });
    await call("squads", "list", {});
    await call("squads", "get", { id: squad?.id });
    await call("squads", "update", { id: squad?.id, members: [{ assistantId: member?.id }], name: "Desk" });
    await call("squads", "delete", { id: squad?.id });
  },
  async phoneNumbers() {
    const free = await freeNumber();
    const imported = await twilioNumber();
    await call("phoneNumbers", "list", {});
    await call("phoneNumbers", "phoneNumberControllerFindAllPaginated", {});
    await call("phoneNumbers", "phoneNumberControllerFindAllPaginated", { search: "front", limit: 1, page: 1, sortOrder: "ASC" });
    await call("phoneNumbers", "get", { id: free?.id });
    await call("phoneNumbers", "update", { id: free?.id, body: { provider: "vapi", name: "Main line" } });
    await call("phoneNumbers", "update", { id: imported?.id, body: { provider: "twilio", name: "Imported line" } });
    await call("phoneNumbers", "delete", { id: imported?.id });
  },
  async tools() {
    const fn = await call("tools", "create", {
      type: "function",
      function: { name: "book_slot", parameters: { type: "object", properties: { day: { type: "string" } } } },
    });
    await call("tools", "create", { type: "transferCall", destinations: [{ type: "number", number: "+14155550188" }] });
    await call("tools", "create", { type: "apiRequest", method: "GET", url: "https://example.com/slots" });
    await call("tools", "create", { type: "endCall" });
    await call("tools", "list", {});
    await call("tools", "get", { id: fn?.id });
    await call("tools", "update", { id: fn?.id, body: { type: "function", async: true } });
    await call("tools", "delete", { id: fn?.id });
  },
  async calls() {
    const [who, line] = [await assistant(), await twilioNumber()];
    const made = await endedCall();
    await call("calls", "create", { assistantId: who?.id, phoneNumberId: line?.id, customers: [{ number: "+14155550124" }, { number: "+14155550125" }] });
    await call("calls", "create", {
      assistantId: who?.id,
      phoneNumber: { twilioPhoneNumber: "+14155550199", twilioAccountSid: "AC0123", twilioAuthToken: "t" },
      customer: { number: "+14155550126" },
    });
    await call("calls", "list", {});
    await call("calls", "list", { assistantId: who?.id, limit: 2 });
    await call("calls", "get", { id: made?.id });
    await call("calls", "update", { id: made?.id, name: "Ada's booking" });
    await call("calls", "callArtifactControllerCallLogsDownload", { id: made?.id });
    await call("calls", "delete", { id: made?.id });
  },
  async chats() {
    const who = await assistant();
    const chat = await call("chats", "create", { assistantId: who?.id, input: "How much is a nail trim?" });
    await call("chats", "create", { previousChatId: chat?.id, input: "And a bath?" });
    await call("chats", "create", { assistantId: who?.id, input: [{ role: "user", content: "Do you groom cats?" }] });
    // The input as the SDK types it (Vapi.UserMessage: message, time, endTime, secondsFromStart).
    const now = Date.parse(await advance(0));
    await call("chats", "create", {
      assistantId: who?.id,
      input: [{ role: "user", message: "Do you groom rabbits?", time: now, endTime: now, secondsFromStart: 0 }],
    });
    await call("chats", "get", { id: chat?.id });
    await call("chats", "list", {});
    await call("chats", "list", { assistantId: who?.id, limit: 1, page: 2 });
    await call("chats", "delete", { id: chat?.id });
  },
  async sessions() {
    const who = await assistant();
    const session = await call("sessions", "create", { assistantId: who?.id, name: "Nail trims" });
    await call("chats", "create", { sessionId: session?.id, input: "How much is a nail trim?" });
    const now = Date.parse(await advance(0));
    await call("sessions", "create", {
      assistantId: who?.id,
      messages: [
        { role: "user", message: "Is a nail trim $15?", time: now, endTime: now, secondsFromStart: 0 },
        { role: "assistant", content: "Yes, a nail trim is $15." },
      ],
    });
    await call("sessions", "list", {});
    await call("sessions", "get", { id: session?.id });
    await call("sessions", "update", { id: session?.id, status: "completed" });
    await call("sessions", "delete", { id: session?.id });
  },
  async files() {
    const made = await call("files", "create", {
      file: { data: Buffer.from("Nail trim: $15\n"), filename: "prices.txt", contentType: "text/plain" },
      purpose: "knowledge-base-v2",
      metadata: '{"source": "desk"}',
    });
    await advance(10);
    await call("files", "list", { purpose: "knowledge-base-v2" });
    await call("files", "get", { id: made?.id });
    await call("files", "update", { id: made?.id, name: "Prices" });
    await call("files", "delete", { id: made?.id });
  },
  async knowledgeBases() {
    const prices = await call("files", "create", {
      file: { data: Buffer.from("Nail trim: $15\n"), filename: "prices.txt", contentType: "text/plain" },
      purpose: "knowledge-base-v2",
    });
    const scan = await call("files", "create", {
      file: { data: Buffer.from("%PDF-1.7"), filename: "scan.pdf", contentType: "application/pdf" },
      purpose: "knowledge-base-v2",
    });
    const base = await call("knowledgeBasesV2", "knowledgeBaseV2ControllerCreate", { name: "Prices", description: "What things cost." });
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerFileAttach", { id: base?.id, fileId: prices?.id });
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerFileAttach", { id: base?.id, fileId: scan?.id });
    await advance(10);
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerFindAll", {});
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerFindOne", { id: base?.id });
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerFilesGet", { id: base?.id });
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerFileRetry", { id: base?.id, fileId: scan?.id });
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerFileDetach", { id: base?.id, fileId: prices?.id });
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerUpdate", { id: base?.id, name: "Prices 2026" });
    await call("knowledgeBasesV2", "knowledgeBaseV2ControllerRemove", { id: base?.id });
  },
  async structuredOutputs() {
    const made = await endedCall();
    const output = await call("structuredOutputs", "structuredOutputControllerCreate", { name: "asked_nail_trim", schema: SCHEMA });
    await call("structuredOutputs", "structuredOutputControllerFindAll", {});
    await call("structuredOutputs", "structuredOutputControllerFindOne", { id: output?.id });
    await call("structuredOutputs", "structuredOutputControllerUpdate", { id: output?.id, schemaOverride: "false", description: "Asked about a trim." });
    await call("structuredOutputs", "structuredOutputControllerRun", { callIds: [made?.id], previewEnabled: true, structuredOutputId: output?.id });
    await call("structuredOutputs", "structuredOutputControllerRemove", { id: output?.id });
  },
  async scorecards() {
    const asked = await call("structuredOutputs", "structuredOutputControllerCreate", { name: "asked_nail_trim", schema: SCHEMA });
    const metric = { structuredOutputId: asked?.id, conditions: [{ type: "comparator", comparator: "=", value: true, points: 50 }] };
    const card = await call("observabilityScorecard", "scorecardControllerCreate", { metrics: [metric], name: "Price questions" });
    await call("observabilityScorecard", "scorecardControllerGetPaginated", {});
    await call("observabilityScorecard", "scorecardControllerGet", { id: card?.id });
    await call("observabilityScorecard", "scorecardControllerUpdate", { id: card?.id, description: "Asked about prices." });
    await call("observabilityScorecard", "scorecardControllerRemove", { id: card?.id });
  },
  async evals() {
    const who = await assistant();
    const made = await call("eval", "evalControllerCreate", { messages: MOCK, type: "chat.mockConversation", name: "Nail trim price" });
    await call("eval", "evalControllerGetPaginated", {});
    await call("eval", "evalControllerGet", { id: made?.id });
    await call("eval", "evalControllerUpdate", { id: made?.id, description: "Quotes the price." });
    const run = await call("eval", "evalControllerRun", { target: { type: "assistant", assistantId: who?.id }, type: "eval", evalId: made?.id });
    await advance(60);
    await call("eval", "evalControllerGetRun", { id: run?.id });
    await call("eval", "evalControllerGetRunsPaginated", {});
    await call("eval", "evalControllerRemoveRun", { id: run?.id });
    await call("eval", "evalControllerRemove", { id: made?.id });
  },
  async simulations() {
    const who = await assistant();
    const personality = await call("simulationPersonalities", "personalityControllerCreate", {
      name: "Hurried Hana",
      assistant: { model: { provider: "openai", model: "gpt-4o", messages: [{ role: "system", content: "You are in a hurry." }] } },
    });
    await call("simulationPersonalities", "personalityControllerFindAll", {});
    await call("simulationPersonalities", "personalityControllerFindOne", { id: personality?.id });
    await call("simulationPersonalities", "personalityControllerUpdate", { id: personality?.id, name: "Hurried Hanna" });
    const scenario = await call("simulationScenarios", "scenarioControllerCreate", {
      name: "Nail trim price",
      instructions: "Ask how much a nail trim costs.",
      evaluations: [{ structuredOutput: { name: "asked", schema: SCHEMA }, comparator: "=", value: true }],
    });
    await call("simulationScenarios", "scenarioControllerFindAll", {});
    await call("simulationScenarios", "scenarioControllerFindOne", { id: scenario?.id });
    await call("simulationScenarios", "scenarioControllerUpdate", { id: scenario?.id, name: "Nail trim" });
    const simulation = await call("simulations", "simulationControllerCreate", { scenarioId: scenario?.id, personalityId: personality?.id, name: "Price check" });
    await call("simulations", "simulationControllerFindAll", {});
    await call("simulations", "simulationControllerFindOne", { id: simulation?.id });
    await call("simulations", "simulationControllerUpdate", { id: simulation?.id, name: "Price" });
    await call("simulations", "simulationControllerGetConcurrency");
    await call("simulations", "simulationGenerateControllerGenerate", { assistantId: who?.id });
    const suite = await call("simulationSuites", "simulationSuiteControllerCreate", { name: "Front desk", simulationIds: [simulation?.id] });
    await call("simulationSuites", "simulationSuiteControllerFindAll", {});
    await call("simulationSuites", "simulationSuiteControllerFindOne", { id: suite?.id });
    await call("simulationSuites", "simulationSuiteControllerUpdate", { id: suite?.id, name: "Desk" });
    const run = await call("simulationRuns", "simulationRunControllerCreate", {
      simulations: [{ type: "simulationSuite", simulationSuiteId: suite?.id }],
      target: { type: "assistant", assistantId: who?.id },
      transport: { provider: "vapi.webchat" },
    });
    await advance(120);
    await call("simulationRuns", "simulationRunControllerFindAll", {});
    await call("simulationRuns", "simulationRunControllerFindOne", { id: run?.id });
    const items = await call("simulationRuns", "simulationRunControllerFindItems", { id: run?.id });
    await call("simulationRuns", "simulationRunControllerFindItem", { id: run?.id, itemId: items?.[0]?.id });
    await call("simulationRuns", "simulationRunControllerCancelGroup", { id: run?.id });
    await call("simulationSuites", "simulationSuiteControllerRemove", { id: suite?.id });
    await call("simulations", "simulationControllerRemove", { id: simulation?.id });
    await call("simulationScenarios", "scenarioControllerRemove", { id: scenario?.id });
    await call("simulationPersonalities", "personalityControllerRemove", { id: personality?.id });
  },
  async campaigns() {
    const [who, line] = [await assistant(), await twilioNumber()];
    const customers = [{ number: "+14155550131", name: "Ada" }, { number: "+14155550132", name: "Bo" }];
    const first = await call("campaigns", "campaignControllerCreate", { name: "Reminders", assistantId: who?.id, phoneNumberId: line?.id, customers });
    const now = await advance(0);
    const tomorrow = new Date(Date.parse(now) + 86_400_000).toISOString();
    const second = await call("campaigns", "campaignControllerCreateV2", {
      name: "Follow-ups", assistantId: who?.id, phoneNumberId: line?.id, customers, schedulePlan: { earliestAt: tomorrow },
    });
    await advance(60);
    await call("campaigns", "campaignControllerFindAll", {});
    await call("campaigns", "campaignControllerFindAllV2", { includeCounters: true });
    await call("campaigns", "campaignControllerFindOne", { id: first?.id });
    await call("campaigns", "campaignControllerFindOneV2", { id: second?.id, includeCounters: true });
    await call("campaigns", "campaignControllerGetCampaignV2Contacts", { id: second?.id });
    await call("campaigns", "campaignControllerUpdate", { id: first?.id, body: { name: "Reminders (done)" } });
    await call("campaigns", "campaignControllerUpdateV2", { id: second?.id, body: { status: "cancelled" } });
    await call("campaigns", "campaignControllerRemove", { id: first?.id });
    await call("campaigns", "campaignControllerRemoveV2", { id: second?.id });
  },
  async analytics() {
    await endedCall();
    const query = { table: "call", name: "cost", operations: [{ operation: "sum", column: "cost" }, { operation: "count", column: "id" }], groupBy: ["assistantId"] };
    await call("analytics", "get", { queries: [query] });
  },
};

for (const [name, drive] of Object.entries(RESOURCES)) {
  try {
    await drive();
  } catch (exc) {
    report(name, false, `the driver stopped: ${exc?.stack ?? exc}`);
  }
}
process.exitCode = failures ? 1 : 0;

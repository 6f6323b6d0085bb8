-- One MCP tools/call per request, as a client without a session sends it (streamable HTTP,
-- `--stateless`). Used by bench/throughput.py:
--   wrk -t2 -c32 -d5s --latency -s bench/wrk/mcp_call.lua http://127.0.0.1:PORT/mcp -- TOOL ARGS_JSON PROTOCOL EXPECT
-- PROTOCOL 2026-07-28 sends the per-request envelope (`params._meta` and the Mcp-Method /
-- Mcp-Name headers) as the SDK 2.x client and Claude Code do; 2025-06-18 sends the older
-- form. A response counts as bad unless it is 200, contains EXPECT and is not an error.

local request_bytes
bad = 0  -- global: done() reads each thread's count with thread:get
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local tool, arguments, protocol = args[1], args[2], args[3]
  expect = args[4]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = protocol,
  }
  local params = '"name":"' .. tool .. '","arguments":' .. arguments
  if protocol >= "2026" then
    headers["Mcp-Method"] = "tools/call"
    headers["Mcp-Name"] = tool
    params = params .. ',"_meta":{"io.modelcontextprotocol/protocolVersion":"' .. protocol
      .. '","io.modelcontextprotocol/clientInfo":{"name":"wrk","version":"1"},'
      .. '"io.modelcontextprotocol/clientCapabilities":{}}'
  end
  local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{' .. params .. '}}'
  request_bytes = wrk.format("POST", nil, headers, body)
end

function request()
  return request_bytes
end

function response(status, headers, body)
  if status ~= 200 or not body:find(expect, 1, true) or body:find('"isError"%s*:%s*true') then
    bad = bad + 1
    if bad == 1 then
      io.stderr:write("bad response: " .. status .. " " .. body:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("bad") or 0)
  end
  io.write(string.format("RESULT requests=%d seconds=%.3f bad=%d errors=%d p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

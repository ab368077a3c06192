// The official TypeScript SDK client over stdio, for tests/test_ts_sdk_stdio.py: calls TOOL CALLS times with
// a progress handler and prints one JSON line: the progress values each call received, in order.
//   node progress_client.mjs CALLS TOOL ARGS_JSON -- COMMAND ARG...
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [calls, tool, args, separator, command, ...commandArgs] = process.argv.slice(2);
if (separator !== "--") throw new Error("usage: CALLS TOOL ARGS_JSON -- COMMAND ARG...");
const transport = new StdioClientTransport({ command, args: commandArgs, stderr: "inherit" });
const client = new Client({ name: "mcprt-ts-progress", version: "1" });
const errors = [];
client.onerror = (error) => errors.push(String(error));
await client.connect(transport);
const received = [];
for (let i = 0; i < Number(calls); i++) {
  const seen = [];
  await client.callTool({ name: tool, arguments: JSON.parse(args) }, undefined, {
    onprogress: (progress) => seen.push(progress.progress),
  });
  received.push(seen);
}
await client.close();
process.stdout.write(JSON.stringify({ received, errors }) + "\n");

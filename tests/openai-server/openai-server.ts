import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** What the scripted model does for one request. */
export type Reply =
  | { kind: "completion"; content: string; finishReason?: "stop" | "length"; reasoning?: string; delayMs?: number }
  | { kind: "status"; status: 429 | 500 | 503 }
  | { kind: "hang" };

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  [key: string]: unknown;
}

export interface OpenAiServer {
  url: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible chat-completions endpoint serving scripted replies: the stand-in for a
 * sglang/vLLM server, which cannot run here. The real `openai` client talks to it.
 */
export async function startOpenAiServer(script: (request: ChatRequest, index: number) => Reply): Promise<OpenAiServer> {
  const requests: ChatRequest[] = [];
  const hanging = new Set<IncomingMessage>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ error: { message: "not found" } }));
    }
    const request = JSON.parse(Buffer.concat(chunks).toString()) as ChatRequest;
    const index = requests.push(request) - 1;
    const reply = script(request, index);
    if (reply.kind === "hang") return void hanging.add(req);
    if (reply.kind === "status") {
      res.writeHead(reply.status, { "Content-Type": "application/json" });
      return res.end(JSON.stringify({ error: { message: `scripted ${reply.status}`, type: "server_error" } }));
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    const promptTokens = request.messages.reduce((n, m) => n + Math.ceil(m.content.length / 4), 0);
    const completionTokens = Math.ceil(reply.content.length / 4);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${index}`,
        object: "chat.completion",
        created: 1764000000,
        model: request.model,
        choices: [
          {
            index: 0,
            finish_reason: reply.finishReason ?? "stop",
            message: { role: "assistant", content: reply.content, ...(reply.reasoning ? { reasoning: reply.reasoning } : {}) },
          },
        ],
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      }),
    );
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const req of hanging) req.socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

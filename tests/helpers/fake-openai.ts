// OpenAI's chat completions endpoint, as the example tests need it: a local stand-in for the
// one third party the examples call.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface UpstreamCall {
  readonly key: string;
  readonly body: unknown;
}

interface ChatBody {
  readonly model: string;
  readonly messages: readonly { readonly content: string }[];
}

export interface FakeOpenAI {
  /** Base URL, as OPENAI_BASE_URL takes it (ends in /v1). */
  readonly baseUrl: string;
  /** The chat completions endpoint itself. */
  readonly chatUrl: string;
  readonly calls: UpstreamCall[];
  /** The completions it answered with, in order. */
  readonly answers: unknown[];
  /** Settles when a request asking "hold" arrives: that one is never answered. */
  readonly holding: Promise<void>;
  /** Settles when the caller of the held request hangs up. */
  readonly heldHungUp: Promise<void>;
  close(): Promise<void>;
}

/**
 * Answers `POST /v1/chat/completions` as OpenAI does: a completion for the keys in `valid`, the
 * 401 `invalid_api_key` error for any other. Its 401 message quotes the whole key (OpenAI's
 * quotes part of it), so a handler that passed provider errors on would leak it here.
 */
export async function startFakeOpenAI(valid: ReadonlySet<string>): Promise<FakeOpenAI> {
  const calls: UpstreamCall[] = [];
  const answers: unknown[] = [];
  const holding = Promise.withResolvers<void>();
  const heldHungUp = Promise.withResolvers<void>();
  const server: Server = createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404).end();
      return;
    }
    const body = JSON.parse(await readBody(req)) as ChatBody;
    const auth = req.headers.authorization ?? "";
    const key = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : "";
    calls.push({ key, body });
    if (body.messages.at(-1)?.content === "hold") {
      res.on("close", () => heldHungUp.resolve());
      holding.resolve();
      return;
    }
    res.setHeader("content-type", "application/json");
    if (!valid.has(key)) {
      res.writeHead(401).end(
        JSON.stringify({
          error: {
            message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
            type: "invalid_request_error",
            param: null,
            code: "invalid_api_key",
          },
        }),
      );
      return;
    }
    const answer = {
      id: `chatcmpl-fake-${calls.length}`,
      object: "chat.completion",
      created: 1_768_471_230,
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: `answer number ${calls.length}` },
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
    };
    answers.push(answer);
    res.writeHead(200).end(JSON.stringify(answer));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    chatUrl: `http://127.0.0.1:${port}/v1/chat/completions`,
    calls,
    answers,
    holding: holding.promise,
    heldHungUp: heldHungUp.promise,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req.setEncoding("utf8")) text += chunk;
  return text;
}

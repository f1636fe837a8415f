// The chat route's logic, kept apart from route.ts so it imports nothing: route.ts wires it to
// the published client and to env, tests wire it to the in-repo client and a local fake model
// provider. Only web-standard globals are used, so it runs in the Node and Edge runtimes.
//
// The API key stays on the server: no answer is ever built from it, and the provider's error
// bodies are dropped because they can quote the key (OpenAI's 401 shows part of it).

export interface ChatHandlerOptions {
  /** Resolves to an API key; rejects with the client's `KeyUnavailableError` when none can be had. */
  getApiKey: () => Promise<string>;
  /** Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1`. */
  upstreamUrl: string;
  /** The model to ask. Chosen here, not by the browser, so visitors cannot pick a costlier one. */
  model: string;
  /** Where failures are reported for the operator. Default: `console.error`. */
  log?: (message: string) => void;
}

interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

/** When the rotator's refusal gives no Retry-After (e.g. it could not be reached). */
const DEFAULT_RETRY_AFTER_S = 5;

/**
 * `POST` handler: takes `{"messages": [{"role": "user" | "assistant", "content": "…"}, …]}`,
 * asks the provider's `/chat/completions` with a key from the rotator, and answers with the
 * provider's completion. No key available: 503 with Retry-After. Provider error: 502 with
 * its status as `upstream_status`.
 */
export function createChatHandler(
  options: ChatHandlerOptions,
): (request: Request) => Promise<Response> {
  const endpoint = `${options.upstreamUrl.replace(/\/+$/, "")}/chat/completions`;
  const log = options.log ?? console.error;

  return async (request) => {
    // Validated before a key is taken, so malformed requests cost no quota.
    const messages = parseMessages(await request.json().catch(() => undefined));
    if (messages === undefined) {
      return json(400, {
        error: 'expected {"messages": [{"role": "user" | "assistant", "content": "…"}, …]}',
      });
    }

    let apiKey: string;
    try {
      apiKey = await options.getApiKey();
    } catch (error) {
      if (!isKeyUnavailable(error)) throw error;
      // The client's messages never contain a key or its token, so they are safe to log.
      log(`chat: no API key from the rotator: ${error.message}`);
      return json(
        503,
        { error: "no API key is available right now, try again later" },
        { "retry-after": String(error.retryAfter ?? DEFAULT_RETRY_AFTER_S) },
      );
    }

    let upstream: Response;
    try {
      upstream = await fetch(endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: options.model, messages }),
        // A visitor who leaves stops the provider's work, and its bill.
        signal: request.signal,
      });
    } catch (error) {
      log(`chat: the model provider could not be reached: ${String(error)}`);
      return json(502, { error: "the model provider could not be reached" });
    }

    if (!upstream.ok) {
      await upstream.body?.cancel();
      log(`chat: the model provider answered HTTP ${upstream.status}`);
      return json(502, {
        error: "the model provider refused the request",
        upstream_status: upstream.status,
      });
    }
    return json(200, await upstream.json());
  };
}

function parseMessages(body: unknown): ChatMessage[] | undefined {
  if (typeof body !== "object" || body === null || !("messages" in body)) return undefined;
  const { messages } = body;
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  const parsed: ChatMessage[] = [];
  for (const message of messages) {
    const { role, content } = (message ?? {}) as Record<string, unknown>;
    // "system" is left out on purpose: the system prompt is the server's business.
    if ((role !== "user" && role !== "assistant") || typeof content !== "string") return undefined;
    // Rebuilt rather than passed on, so extra fields from the browser never reach the provider.
    parsed.push({ role, content });
  }
  return parsed;
}

/**
 * Recognised by name rather than `instanceof`, so this file needs no import and works with
 * whichever copy of the client route.ts hands it.
 */
function isKeyUnavailable(error: unknown): error is Error & { retryAfter?: number | undefined } {
  return error instanceof Error && error.name === "KeyUnavailableError";
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

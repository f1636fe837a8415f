import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/** How the fake provider answers for a key it knows. Unknown keys are answered as invalid. */
export type Behaviour =
  | { readonly answer: "ok" }
  | { readonly answer: "invalid" }
  | { readonly answer: "rate_limited"; readonly retryAfter?: string; readonly retryDelay?: string }
  | {
      readonly answer: "status";
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
    };

/** The fake's base URL for each protocol it speaks, as a pool would configure it. */
export interface FakeBaseUrls {
  readonly openai: string;
  readonly anthropic: string;
  readonly gemini: string;
  /** The resource root: the preset appends /openai/models?api-version=… */
  readonly azure: string;
  /** An OpenAI-compatible API taking the key in `?key=`. */
  readonly queryKey: string;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
}

export interface FakeProvider {
  readonly base: FakeBaseUrls;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

type Protocol = {
  /** The key where this provider reads it, or undefined when it is not there. */
  readonly keyOf: (request: IncomingMessage, url: URL) => string | undefined;
  /** What the provider itself requires besides the key: an error answer, or null. */
  readonly missing: (request: IncomingMessage, url: URL) => string | null;
  readonly invalid: { readonly status: number; readonly body: unknown };
};

const bearer = (request: IncomingMessage) =>
  /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];

const openAiInvalid = {
  status: 401,
  body: {
    error: {
      message: "Incorrect API key provided.",
      type: "invalid_request_error",
      code: "invalid_api_key",
    },
  },
};

// Route prefix -> the way that provider takes the key and refuses a bad one (as their APIs do).
const PROTOCOLS: Record<string, Protocol> = {
  "GET /openai/v1/models": { keyOf: bearer, missing: () => null, invalid: openAiInvalid },
  "GET /anthropic/v1/models": {
    keyOf: (request) => request.headers["x-api-key"] as string | undefined,
    missing: (request) =>
      request.headers["anthropic-version"] ? null : "anthropic-version: header is required",
    invalid: {
      status: 401,
      body: {
        type: "error",
        error: { type: "authentication_error", message: "invalid x-api-key" },
      },
    },
  },
  "GET /gemini/v1beta/models": {
    keyOf: (request) => request.headers["x-goog-api-key"] as string | undefined,
    missing: () => null,
    // Gemini answers a bad key with 400, not 401.
    invalid: {
      status: 400,
      body: {
        error: {
          code: 400,
          message: "API key not valid. Please pass a valid API key.",
          status: "INVALID_ARGUMENT",
          details: [
            { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" },
          ],
        },
      },
    },
  },
  "GET /azure/openai/models": {
    keyOf: (request) => request.headers["api-key"] as string | undefined,
    missing: (_, url) =>
      url.searchParams.get("api-version") === "2024-10-21"
        ? null
        : "missing or unsupported api-version",
    invalid: {
      status: 401,
      body: { error: { code: "401", message: "Access denied due to invalid subscription key." } },
    },
  },
  "GET /query/v1/models": {
    keyOf: (_, url) => url.searchParams.get("key") ?? undefined,
    missing: () => null,
    invalid: openAiInvalid,
  },
};

/** Gemini (and Google APIs generally) say how long to wait in the body, as a RetryInfo detail. */
function rateLimitedBody(retryDelay: string | undefined): object {
  if (retryDelay === undefined) return { error: { message: "Rate limit reached" } };
  return {
    error: {
      code: 429,
      message: "Resource has been exhausted (e.g. check quota).",
      status: "RESOURCE_EXHAUSTED",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{ quotaMetric: "generativelanguage.googleapis.com/generate_requests" }],
        },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay },
      ],
    },
  };
}

/** A local stand-in for the providers' model-listing endpoints, answering per key. */
export async function startFakeProvider(keys: Record<string, Behaviour>): Promise<FakeProvider> {
  const requests: SeenRequest[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://fake");
    requests.push({
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
    });
    const protocol = PROTOCOLS[`${request.method} ${url.pathname}`];
    if (!protocol) return send(response, 404, { error: { message: "not found" } });
    const problem = protocol.missing(request, url);
    if (problem) return send(response, 400, { error: { message: problem } });
    const behaviour = keys[protocol.keyOf(request, url) ?? ""] ?? { answer: "invalid" };
    switch (behaviour.answer) {
      case "ok":
        return send(response, 200, { object: "list", data: [{ id: "model-1", object: "model" }] });
      case "invalid":
        return send(response, protocol.invalid.status, protocol.invalid.body);
      case "rate_limited": {
        const headers: Record<string, string> = behaviour.retryAfter
          ? { "retry-after": behaviour.retryAfter }
          : {};
        return send(response, 429, rateLimitedBody(behaviour.retryDelay), headers);
      }
      case "status":
        return send(
          response,
          behaviour.status,
          { error: { message: "something went wrong" } },
          behaviour.headers,
        );
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const root = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base: {
      openai: `${root}/openai/v1`,
      anthropic: `${root}/anthropic/v1`,
      gemini: `${root}/gemini/v1beta`,
      azure: `${root}/azure`,
      queryKey: `${root}/query/v1`,
    },
    requests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

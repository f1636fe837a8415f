import { getApiKey } from "api-key-rotator/client";
import { createChatHandler } from "./chat-handler.ts";

const chat = createChatHandler({
  getApiKey,
  upstreamUrl: process.env.OPENAI_BASE_URL ?? "https://api.openai.com/v1",
  model: process.env.OPENAI_MODEL ?? "gpt-4o-mini",
});

export async function POST(request: Request): Promise<Response> {
  return chat(request);
}

import { type DestinationStream, type Logger, pino } from "pino";

// Belt and braces: nothing should log these, and if something does, pino masks it.
const REDACT = [
  "key",
  "api_key",
  "token",
  "*.key",
  "*.api_key",
  "*.token",
  "req.headers.authorization",
  "headers.authorization",
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}

import { connect, type Socket } from "node:net";

/** What came back on a raw connection before the server closed it (or the deadline passed). */
export interface RawExchange {
  readonly received: Buffer;
  /** True when the server ended the connection before the deadline. */
  readonly closed: boolean;
  /** Status codes of every response found at the start of a response head. */
  readonly statuses: number[];
}

/** Opens a TCP connection to the server; resolves once it is established. */
export function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Resolves when the socket closes, or with `false` once `deadlineMs` passes.
 * The deadline bounds a hang; it is never what the test waits for.
 */
export function closedWithin(socket: Socket, deadlineMs: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), deadlineMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Everything the socket receives from now on. */
export function collect(socket: Socket): () => Buffer {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  // A reset after a refusal is one of the answers we accept, not a test failure.
  socket.on("error", () => {});
  return () => Buffer.concat(chunks);
}

/**
 * Sends `bytes` as they are, half-closes, and reads until the server closes
 * the connection or `deadlineMs` passes.
 */
export async function exchange(
  port: number,
  bytes: Buffer,
  deadlineMs = 5_000,
): Promise<RawExchange> {
  const socket = await openSocket(port);
  const received = collect(socket);
  socket.end(bytes);
  const closed = await closedWithin(socket, deadlineMs);
  socket.destroy();
  const text = received().toString("latin1");
  const statuses = Array.from(text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g), (m) =>
    Number(m[1]),
  );
  return { received: received(), closed, statuses };
}

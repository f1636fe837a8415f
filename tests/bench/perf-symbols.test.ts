import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseReport, readableName, usPerRequest } from "../../bench/perf-symbols.ts";

// A slice of `perf report --no-children --sort sym -g none -q --stdio`, as a bench run printed it.
const REPORT = `
    21.99%  [k] pvm_irq_enable
     2.94%  [.] JS:*'acquire file:///tmp/akr-bench-x/dist/cli.js:53557:10
     1.65%  [.] JS:*'clearBuffer node:internal/streams/writable:746:21
     0.50%  [.] JS:+'acquire file:///tmp/akr-bench-x/dist/cli.js:53557:10
     0.25%  [.] JS:*' file:///work/main/bench/servers/floor.ts:42:14
     2.06%  [.] v8::internal::JsonStringifier::Serialize_<true>

`;

describe("perf symbols", () => {
  it("reads each line's share and names JIT code by function and file", () => {
    const basisPoints = parseReport(REPORT).map(({ name, share }) => [
      name,
      Math.round(share * 1e4),
    ]);
    assert.deepEqual(basisPoints, [
      ["pvm_irq_enable", 2199],
      ["acquire (cli.js)", 294],
      ["clearBuffer (node:internal/streams/writable)", 165],
      ["acquire (cli.js)", 50],
      ["(anonymous) (floor.ts)", 25],
      ["v8::internal::JsonStringifier::Serialize_<true>", 206],
    ]);
  });

  it("leaves names that are not JIT code as perf printed them", () => {
    assert.equal(
      readableName("node::StreamBase::WriteString<(node::encoding)1>"),
      "node::StreamBase::WriteString<(node::encoding)1>",
    );
  });

  it("turns shares into microseconds a request, averaged over the runs that were sampled", () => {
    const costs = usPerRequest([
      { cpuUsPerRequest: 30, symbols: [{ name: "acquire (cli.js)", share: 0.1 }] },
      {
        cpuUsPerRequest: 40,
        symbols: [
          { name: "acquire (cli.js)", share: 0.05 },
          { name: "read", share: 0.5 },
        ],
      },
      { cpuUsPerRequest: 99 },
    ]);
    assert.ok(Math.abs((costs.get("acquire (cli.js)") ?? 0) - 2.5) < 1e-9);
    assert.ok(Math.abs((costs.get("read") ?? 0) - 10) < 1e-9);
  });
});

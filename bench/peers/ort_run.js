// bench/peers/ort_run.js: times one ONNX model under onnxruntime-node (CPU EP).
//
//   NODE_PATH=<dir>/node_modules node ort_run.js '<json spec>'
//   spec: {model, threads, warmup, min_runs, min_seconds, max_runs,
//          inputs: [{name, dims, file?}], output_file?}
// float32 inputs: random values, or raw little-endian f32 from `file`. Prints
// one JSON line {"times_ms": [...]} (each run after the warm-up); with
// output_file, also writes the first output there (raw f32) for peers.py's
// check of the exported graph against PyTorch.
// Session: intra-op threads = threads, inter-op 1, sequential execution, all
// graph optimisations (this is where ORT fuses the int8 pattern peers.py writes
// into MatMulIntegerToFloat / DynamicQuantizeMatMul). Used by peers.py run.
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

async function main() {
  const spec = JSON.parse(process.argv[2]);
  const session = await ort.InferenceSession.create(spec.model, {
    executionProviders: ["cpu"],
    intraOpNumThreads: spec.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const feeds = {};
  for (const inp of spec.inputs) {
    const n = inp.dims.reduce((a, b) => a * b, 1);
    let data;
    if (inp.file) {
      const buf = fs.readFileSync(inp.file);
      data = new Float32Array(buf.buffer, buf.byteOffset, n);
    } else {
      data = new Float32Array(n);
      for (let i = 0; i < n; ++i) data[i] = Math.random() * 2 - 1;
    }
    feeds[inp.name] = new ort.Tensor("float32", data, inp.dims);
  }
  if (spec.output_file) {
    const out = await session.run(feeds);
    const first = out[session.outputNames[0]];
    fs.writeFileSync(spec.output_file, Buffer.from(first.data.buffer, first.data.byteOffset, first.data.byteLength));
  }
  for (let i = 0; i < spec.warmup; ++i) await session.run(feeds);
  const times = [], cpu = [];
  const start = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
  while (times.length < spec.min_runs || (elapsed() < spec.min_seconds && times.length < spec.max_runs)) {
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);  // process CPU (all threads), microseconds
    cpu.push((c.user + c.system) / 1e3);
  }
  console.log(JSON.stringify({ times_ms: times, cpu_ms: cpu }));
}

main().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});

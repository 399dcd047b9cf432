#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (CPU), the reference dlc is compared
// with. Reads inputs as TensorProto .pb files, writes outputs the same way,
// and can time runs.
//
//   node tests/ort/ort_run.js MODEL.onnx -i input_0.pb [-i ...] [-o OUTDIR]
//        [--threads N] [--runs N] [--warmup N] [--make-case DIR] [--profile PREFIX]
//
// --make-case DIR writes DIR/model.onnx and DIR/test_data_set_0/{input,output}_N.pb
// (the backend-test layout), so `dlc test DIR` compares dlc with ONNX Runtime
// and the case can be kept as a regression test.
'use strict';

const fs = require('fs');
const path = require('path');
const { decodeTensor, encodeTensor } = require('./tensor_proto');

function loadOrt() {
  const local = path.join(__dirname, '..', '..', 'third_party', 'node_modules', 'onnxruntime-node');
  try {
    return require(local);
  } catch (e) {
    try {
      return require('onnxruntime-node');
    } catch (e2) {
      fail(`cannot load onnxruntime-node (${e.message.split('\n')[0]}); run: cd third_party && npm install --ignore-scripts`);
    }
  }
}

function fail(message, code = 1) {
  process.stderr.write(`ort_run: error: ${message}\n`);
  process.exit(code);
}

const usage = `usage: node tests/ort/ort_run.js MODEL.onnx -i INPUT.pb [-i ...] [options]
  -o, --output-dir DIR   write output_N.pb files there
  --threads N            intra-op threads (default 1)
  --runs N               time N runs and print median/p90/p99 (default: one untimed run)
  --warmup N             untimed runs before timing (default 10)
  --make-case DIR        write a backend-test case (model + inputs + ORT outputs) to DIR
  --profile PREFIX       write ORT's per-node trace of every run to PREFIX_<date>.json
                         (next to dlc profile: where the two differ, node by node)
`;

function parseArgs(argv) {
  const args = { inputs: [], threads: 1, runs: 0, warmup: 10, outDir: null, makeCase: null, profile: null, model: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`, 2);
      return argv[++i];
    };
    const count = (name, v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) fail(`${name} '${v}': expected a non-negative integer`, 2);
      return n;
    };
    if (a === '-h' || a === '--help') { process.stdout.write(usage); process.exit(0); }
    else if (a === '-i' || a === '--input') args.inputs.push(value());
    else if (a === '-o' || a === '--output-dir') args.outDir = value();
    else if (a === '--threads') args.threads = count(a, value());
    else if (a === '--runs') args.runs = count(a, value());
    else if (a === '--warmup') args.warmup = count(a, value());
    else if (a === '--make-case') args.makeCase = value();
    else if (a === '--profile') args.profile = value();
    else if (a.startsWith('-')) fail(`unknown option '${a}'\n${usage}`, 2);
    else if (args.model === null) args.model = a;
    else fail(`unexpected argument '${a}'`, 2);
  }
  if (args.model === null) fail(`no model given\n${usage}`, 2);
  return args;
}

function percentile(sorted, p) {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

function summary(name, tensor) {
  const data = tensor.data;
  const n = data.length;
  const head = Array.from(data.slice(0, 6), (v) => (typeof v === 'bigint' ? v.toString() : Number(v).toPrecision(6)));
  return `output '${name}' ${tensor.type}[${tensor.dims.join(',')}]: [${head.join(', ')}${n > 6 ? ', ...' : ''}]`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  if (!fs.existsSync(args.model)) fail(`cannot open '${args.model}': no such file`);
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    ...(args.profile ? { enableProfiling: true, profileFilePrefix: args.profile } : {}),
  });
  if (args.inputs.length !== session.inputNames.length)
    fail(`the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}), ${args.inputs.length} files given`);

  // a file whose tensor name matches an input feeds it; the rest go by position
  const feeds = {};
  const tensors = args.inputs.map((file) => {
    try { return decodeTensor(fs.readFileSync(file)); } catch (e) { return fail(`${file}: ${e.message}`); }
  });
  const unclaimed = session.inputNames.filter((n) => !tensors.some((t) => t.name === n));
  tensors.forEach((t, i) => {
    const name = session.inputNames.includes(t.name) ? t.name : unclaimed.shift();
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  });

  let results = await session.run(feeds);
  if (args.runs > 0) {
    for (let i = 0; i < args.warmup; i++) results = await session.run(feeds);
    const times = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < args.runs; i++) {
      const t0 = process.hrtime.bigint();
      results = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1e3 / args.runs;
    times.sort((a, b) => a - b);
    const n = times.length;
    const median = n % 2 ? times[(n - 1) / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
    console.log(`ort ${args.model}: threads ${args.threads}, runs ${n}: median ${median.toFixed(4)} ms  ` +
      `p90 ${percentile(times, 90).toFixed(4)} ms  p99 ${percentile(times, 99).toFixed(4)} ms  min ${times[0].toFixed(4)} ms  cpu ${cpuMs.toFixed(4)} ms/run`);
  }

  if (args.profile) session.endProfiling(); // writes PREFIX_<date>.json

  const writeOutputs = (dir) => {
    fs.mkdirSync(dir, { recursive: true });
    session.outputNames.forEach((name, i) => {
      const t = results[name];
      fs.writeFileSync(path.join(dir, `output_${i}.pb`), encodeTensor(name, t.type, t.dims, t.data));
    });
  };
  if (args.outDir) writeOutputs(args.outDir);
  if (args.makeCase) {
    const setDir = path.join(args.makeCase, 'test_data_set_0');
    fs.mkdirSync(setDir, { recursive: true });
    fs.copyFileSync(args.model, path.join(args.makeCase, 'model.onnx'));
    session.inputNames.forEach((name, i) => {
      const t = feeds[name];
      fs.writeFileSync(path.join(setDir, `input_${i}.pb`), encodeTensor(name, t.type, t.dims, t.data));
    });
    writeOutputs(setDir);
  }
  if (args.runs === 0) session.outputNames.forEach((name) => console.log(summary(name, results[name])));
  if (session.release) await session.release();
}

main().catch((e) => fail(e && e.message ? e.message.split('\n')[0] : String(e)));

#!/usr/bin/env node
// Runs ONNX Runtime (CPU, npm onnxruntime-node) over ONNX backend-test cases
// with the rule `dlc test` uses, so the two can be compared case by case:
// floats |got - want| <= atol + rtol * |want| (NaN equals NaN), everything
// else exactly; a uint16 file where the model wants bfloat16 is read as
// bfloat16 bits (onnx 1.12 stores bfloat16 test data that way).
//
//   node tests/ort/ort_conformance.js DIR... [--rtol X] [--atol X]
//
// DIR is a case (model.onnx + test_data_set_*/) or a folder of cases. Prints
// one line per case like dlc test: PASS NAME, FAIL NAME: why, or UNSUPPORTED
// NAME: why (ORT would not load the model), then a summary. All cases run in
// this one process: loading onnxruntime-node per case would cost seconds.
'use strict';

const fs = require('fs');
const path = require('path');
const { decodeTensor } = require('./tensor_proto');

function fail(message, code = 1) {
  process.stderr.write(`ort_conformance: error: ${message}\n`);
  process.exit(code);
}

function loadOrt() {
  const local = path.join(__dirname, '..', '..', 'third_party', 'node_modules', 'onnxruntime-node');
  try { return require(local); } catch (e) {
    try { return require('onnxruntime-node'); } catch (e2) {
      return fail(`cannot load onnxruntime-node (${e.message.split('\n')[0]}); run: bash scripts/setup.sh --deps-only`);
    }
  }
}

function parseArgs(argv) {
  const args = { dirs: [], rtol: 1e-3, atol: 1e-7 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rtol' || a === '--atol') {
      const v = Number(argv[++i]);
      if (!(v >= 0)) fail(`${a} '${argv[i]}': expected a non-negative number`, 2);
      args[a.slice(2)] = v;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: node tests/ort/ort_conformance.js DIR... [--rtol X] [--atol X]\n');
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option '${a}'`, 2);
    else args.dirs.push(a.replace(/\/+$/, ''));
  }
  if (args.dirs.length === 0) fail('no test folder given', 2);
  return args;
}

function collectCases(dir) {
  if (fs.existsSync(path.join(dir, 'model.onnx'))) return [dir];
  if (!fs.existsSync(dir)) fail(`cannot open '${dir}'`);
  return fs.readdirSync(dir).sort()
    .filter((e) => !e.startsWith('.') && fs.existsSync(path.join(dir, e, 'model.onnx')))
    .map((e) => path.join(dir, e));
}

function readNumbered(setDir, prefix) {
  const out = [];
  for (let i = 0; fs.existsSync(path.join(setDir, `${prefix}_${i}.pb`)); i++)
    out.push(decodeTensor(fs.readFileSync(path.join(setDir, `${prefix}_${i}.pb`))));
  return out;
}

function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bf16ToFloat(b) {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, b << 16);
  return buf.getFloat32(0);
}

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16', 'bfloat16']);

function floatAt(type, data, i) {
  if (type === 'float16') return halfToFloat(data[i]);
  if (type === 'bfloat16') return bf16ToFloat(data[i]);
  return data[i];
}

// null when equal, else a message like dlc test's
function compare(name, got, want, rtol, atol) {
  if (got.type !== want.type) return `output '${name}': got dtype ${got.type}, expected ${want.type}`;
  const gd = Array.from(got.dims, Number), wd = want.dims;
  if (gd.length !== wd.length || gd.some((d, i) => d !== wd[i]))
    return `output '${name}': got shape [${gd}], expected [${wd}]`;
  const isFloat = FLOAT_TYPES.has(want.type);
  let bad = 0, first = -1;
  for (let i = 0; i < want.data.length; i++) {
    let ok;
    if (isFloat) {
      const a = floatAt(got.type, got.data, i), b = floatAt(want.type, want.data, i);
      ok = (Number.isNaN(a) || Number.isNaN(b)) ? Number.isNaN(a) && Number.isNaN(b)
        : a === b || Math.abs(a - b) <= atol + rtol * Math.abs(b);
    } else {
      ok = got.data[i] === want.data[i];
    }
    if (!ok) { bad++; if (first < 0) first = i; }
  }
  if (bad === 0) return null;
  const show = (t, i) => (FLOAT_TYPES.has(t.type) ? floatAt(t.type, t.data, i) : t.data[i]).toString();
  return `output '${name}' [${wd}] index ${first}: got ${show(got, first)} expected ${show(want, first)} ` +
    `(${bad} of ${want.data.length} elements differ)`;
}

function firstLine(e) { return (e && e.message ? e.message : String(e)).split('\n')[0].slice(0, 300); }

async function runCase(ort, dir, args) {
  const sets = fs.readdirSync(dir).filter((e) => e.startsWith('test_data_set_')).sort();
  if (sets.length === 0) return ['FAIL', `no test_data_set_* folders in ${dir}`];
  let session;
  try {
    session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'),
      { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 4 });
  } catch (e) {
    return ['UNSUPPORTED', firstLine(e)];
  }
  try {
    for (const set of sets) {
      const setDir = path.join(dir, set);
      const where = sets.length > 1 ? `${set}: ` : '';
      let inputs, expected;
      try {
        inputs = readNumbered(setDir, 'input');
        expected = readNumbered(setDir, 'output');
      } catch (e) { return ['FAIL', `${where}${firstLine(e)}`]; }
      // a file whose tensor name matches an input feeds it; the rest go by position
      const unclaimed = session.inputNames.filter((n) => !inputs.some((t) => t.name === n));
      const feeds = {};
      for (const t of inputs) {
        const name = session.inputNames.includes(t.name) ? t.name : unclaimed.shift();
        if (name === undefined) return ['FAIL', `${where}more input files than model inputs`];
        feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      }
      let results;
      try { results = await session.run(feeds); } catch (e) { return ['FAIL', `${where}${firstLine(e)}`]; }
      if (expected.length === 0) return ['FAIL', `${where}no output_0.pb`];
      if (expected.length > session.outputNames.length)
        return ['FAIL', `${where}the data set has ${expected.length} outputs, the model ${session.outputNames.length}`];
      for (let o = 0; o < expected.length; o++) {
        const name = session.outputNames[o];
        const got = results[name];
        const want = expected[o];
        if (want.type === 'uint16' && got.type === 'bfloat16') want.type = 'bfloat16';
        const why = compare(name, got, want, args.rtol, args.atol);
        if (why !== null) return ['FAIL', `${where}${why}`];
      }
    }
    return ['PASS', ''];
  } finally {
    if (session.release) await session.release();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const cases = args.dirs.flatMap(collectCases);
  const counts = { PASS: 0, FAIL: 0, UNSUPPORTED: 0 };
  for (const dir of cases) {
    let verdict, why;
    try { [verdict, why] = await runCase(ort, dir, args); } catch (e) { [verdict, why] = ['FAIL', firstLine(e)]; }
    counts[verdict]++;
    const name = path.basename(dir);
    process.stdout.write(verdict === 'PASS' ? `PASS ${name}\n` : `${verdict} ${name}: ${why.replace(/\s+/g, ' ')}\n`);
  }
  process.stdout.write(`${counts.PASS} passed, ${counts.FAIL} failed` +
    (counts.UNSUPPORTED ? `, ${counts.UNSUPPORTED} skipped` : '') + '\n');
}

main().catch((e) => fail(firstLine(e)));

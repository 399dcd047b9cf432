#!/usr/bin/env node
// The reference for examples/generate.c: the same greedy decoding loop run by
// ONNX Runtime (CPU), on a GPT-2-style decoder exported by
// scripts/gen_generate_models.py. Prints the generated token ids on one line.
//
//   node tests/ort/ort_generate.js MODEL.onnx --prompt 1,2,3 [-n 16]
//   node tests/ort/ort_generate.js MODEL.onnx --prompt 1,2,3 --check-topk K --tokens 7,8,9
//
// A model with past_* inputs (gpt2_lm_past.onnx) runs the prompt once with
// empty pasts, then one new token per step, feeding present_* back as past_*
// (the cache grows by one each step, an all-ones attention_mask, position_ids
// continuing after the cache);
// otherwise every step runs the whole sequence (input_ids [1, T]) and takes the
// logits at its last position. Greedy picks the first index of the largest
// logit, as torch.argmax does.
//
// --check-topk K --tokens IDS checks a sampled continuation instead: for every
// token, the logits after the prompt and the tokens before it must rank it
// among the K largest (ties with the K-th count as inside). Exit status 1 and
// a line naming the step otherwise.
'use strict';

const path = require('path');

function fail(message, code = 1) {
  process.stderr.write(`ort_generate: error: ${message}\n`);
  process.exit(code);
}

function loadOrt() {
  const local = path.join(__dirname, '..', '..', 'third_party', 'node_modules', 'onnxruntime-node');
  try {
    return require(local);
  } catch (e) {
    try {
      return require('onnxruntime-node');
    } catch (e2) {
      return fail(`cannot load onnxruntime-node (${e.message.split('\n')[0]}); run: cd third_party && npm install --ignore-scripts`);
    }
  }
}

function ids(text, what) {
  const list = text.split(',').filter((s) => s !== '').map(Number);
  if (list.length === 0 || list.some((v) => !Number.isInteger(v) || v < 0)) fail(`${what} '${text}': expected comma-separated token ids`, 2);
  return list;
}

function parseArgs(argv) {
  const a = { model: null, prompt: null, count: 16, checkTopk: 0, tokens: null };
  for (let i = 0; i < argv.length; i++) {
    const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${argv[i]} needs a value`, 2));
    const arg = argv[i];
    if (arg === '--prompt') a.prompt = ids(value(), '--prompt');
    else if (arg === '-n') a.count = Number(value());
    else if (arg === '--check-topk') a.checkTopk = Number(value());
    else if (arg === '--tokens') a.tokens = ids(value(), '--tokens');
    else if (arg.startsWith('-')) fail(`unknown option '${arg}'`, 2);
    else if (a.model === null) a.model = arg;
    else fail(`unexpected argument '${arg}'`, 2);
  }
  if (a.model === null || a.prompt === null) fail('usage: ort_generate.js MODEL.onnx --prompt IDS [-n N] [--check-topk K --tokens IDS]', 2);
  if (!Number.isInteger(a.count) || a.count < 1) fail('-n: expected a positive integer', 2);
  if (a.checkTopk && (!Number.isInteger(a.checkTopk) || a.checkTopk < 1 || a.tokens === null))
    fail('--check-topk K needs a positive K and --tokens', 2);
  return a;
}

// Logits at the last position of a [1, T, vocab] output, as an array.
function lastLogits(logits) {
  const vocab = logits.dims[logits.dims.length - 1];
  const t = logits.dims[1];
  return Array.from(logits.data.subarray((t - 1) * vocab, t * vocab));
}

// The smallest gap between the largest and second-largest logit on the greedy
// path: a comparison with another implementation is only as firm as this is
// large compared to their rounding differences (reported on stderr).
let smallestGap = Infinity;

function argmax(v) {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  let second = -Infinity;
  for (let i = 0; i < v.length; i++) if (i !== best && v[i] > second) second = v[i];
  smallestGap = Math.min(smallestGap, v[best] - second);
  return best;
}

function idsTensor(ort, list) {
  return new ort.Tensor('int64', BigInt64Array.from(list.map(BigInt)), [1, list.length]);
}

// One step of the plain model: the whole sequence, logits at its end.
async function plainStep(ort, session, sequence) {
  const out = await session.run({ [session.inputNames[0]]: idsTensor(ort, sequence) });
  return lastLogits(out[session.outputNames[0]]);
}

async function greedyPlain(ort, session, prompt, count) {
  const sequence = prompt.slice();
  const generated = [];
  for (let step = 0; step < count; step++) {
    const next = argmax(await plainStep(ort, session, sequence));
    generated.push(next);
    sequence.push(next);
  }
  return generated;
}

async function greedyPast(ort, session, prompt, count) {
  // past_* inputs are [1, heads, past_sequence, head_dim]: start with 0 cached positions
  const meta = session.inputMetadata;
  let past = {};
  for (const m of meta) {
    if (!m.name.startsWith('past_')) continue;
    const [batch, heads, , headDim] = m.shape;
    if (![batch, heads, headDim].every(Number.isInteger)) fail(`input '${m.name}': expected static batch, heads and head_dim, got [${m.shape}]`);
    past[m.name] = new ort.Tensor('float32', new Float32Array(0), [batch, heads, 0, headDim]);
  }
  const generated = [];
  let feed = prompt.slice();
  let cached = 0;
  for (let step = 0; step < count; step++) {
    // every slot is real here: the mask is all ones, positions continue after the cache
    const positions = feed.map((_, i) => cached + i);
    const mask = new Array(cached + feed.length).fill(1);
    const out = await session.run({
      input_ids: idsTensor(ort, feed), attention_mask: idsTensor(ort, mask), position_ids: idsTensor(ort, positions), ...past,
    });
    cached += feed.length;
    const next = argmax(lastLogits(out[session.outputNames[0]]));
    generated.push(next);
    const present = {};
    for (const name of Object.keys(past)) present[name] = out[name.replace(/^past_/, 'present_')];
    past = present;
    feed = [next];
  }
  return generated;
}

async function checkTopk(ort, session, prompt, tokens, k) {
  const sequence = prompt.slice();
  for (let step = 0; step < tokens.length; step++) {
    const logits = await plainStep(ort, session, sequence);
    const token = tokens[step];
    if (token >= logits.length) fail(`step ${step}: token ${token} is outside the vocabulary of ${logits.length}`);
    const kth = logits.slice().sort((x, y) => y - x)[Math.min(k, logits.length) - 1];
    if (logits[token] < kth) {
      const above = logits.filter((v) => v > logits[token]).length;
      fail(`step ${step}: token ${token} (logit ${logits[token]}) ranks ${above + 1}, outside the top ${k} (k-th logit ${kth})`);
    }
    sequence.push(token);
  }
  console.log(`ort_generate: all ${tokens.length} tokens are within the top ${k}`);
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const hasPast = session.inputNames.some((n) => n.startsWith('past_'));
  if (a.checkTopk) {
    if (hasPast) fail('--check-topk takes the plain model (gpt2_lm.onnx)', 2);
    await checkTopk(ort, session, a.prompt, a.tokens, a.checkTopk);
    return;
  }
  const tokens = hasPast ? await greedyPast(ort, session, a.prompt, a.count)
                         : await greedyPlain(ort, session, a.prompt, a.count);
  console.log(tokens.join(' '));
  process.stderr.write(`ort_generate: smallest gap between the two largest logits: ${smallestGap.toPrecision(3)}\n`);
}

main().catch((e) => fail(e.message));
